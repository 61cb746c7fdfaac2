/**
 * verifyRsaSha256 against Node's own `crypto.verify`: the same verdict on good signatures, and on
 * bad ones made to get past a check that parses the recovered block instead of comparing it
 * (short padding, another hash's DigestInfo, DigestInfo without its NULL, bytes after the digest,
 * a signature not below the modulus or of another length), and never a yes for a key that is not
 * RSA or is under 2048 bits.
 */
import { constants, createHash, createPublicKey, generateKeyPairSync, privateEncrypt, randomBytes, sign, verify, type KeyObject } from 'node:crypto';
import { verifyRsaSha256 } from './rsa-sha256-signature';

const SHA256_DIGEST_INFO = Buffer.from('3031300d060960864801650304020105000420', 'hex');
/** SHA-256's DigestInfo with the algorithm's parameters left out (no NULL), which some signers once made. */
const SHA256_DIGEST_INFO_WITHOUT_NULL = Buffer.from('302f300b06096086480165030402010420', 'hex');

const pairs = [2048, 3072].map((bits) => ({ bits, ...generateKeyPairSync('rsa', { modulusLength: bits }) }));
const data = Buffer.from('eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiIxIn0');
const digest = createHash('sha256').update(data).digest();

/** The signature a signer would make of `block` laid out by hand: the raw private-key operation on it. */
function signBlock(privateKey: KeyObject, block: Buffer): Buffer {
  return privateEncrypt({ key: privateKey, padding: constants.RSA_NO_PADDING }, block);
}

/** 00 01, `padding` bytes of FF, 00, then `tail`, to the key's size (`filler` after `tail` when it falls short). */
function block(size: number, padding: number, tail: Buffer, filler = 0): Buffer {
  const out = Buffer.alloc(size, filler);
  out[1] = 0x01;
  out.fill(0xff, 2, 2 + padding);
  out[2 + padding] = 0x00;
  tail.copy(out, 3 + padding);
  return out;
}

/** The verdicts must agree with crypto.verify's, whatever the signature. */
function expectSameVerdict(publicKey: KeyObject, signature: Buffer, signed = data): boolean {
  const ours = verifyRsaSha256(signed, publicKey, signature);
  expect(ours).toBe(verify('sha256', signed, publicKey, signature));
  return ours;
}

describe.each(pairs)('verifyRsaSha256 with a $bits-bit key', ({ bits, publicKey, privateKey }) => {
  const size = bits / 8;
  const properPadding = size - 3 - SHA256_DIGEST_INFO.length - digest.length;

  it('accepts what crypto.sign signs, and the key as the JWKS brings it', () => {
    const signature = sign('sha256', data, privateKey);
    expect(expectSameVerdict(publicKey, signature)).toBe(true);
    const fromJwk = createPublicKey({ key: publicKey.export({ format: 'jwk' }), format: 'jwk' });
    expect(verifyRsaSha256(data, fromJwk, signature)).toBe(true);
    // The same block laid out by hand is the same signature: PKCS #1 v1.5 is deterministic.
    expect(signBlock(privateKey, block(size, properPadding, Buffer.concat([SHA256_DIGEST_INFO, digest])))).toEqual(signature);
  });

  it('refuses a signature of other data, a flipped bit anywhere, and another hash', () => {
    const signature = sign('sha256', data, privateKey);
    expect(expectSameVerdict(publicKey, signature, Buffer.from('eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiIyIn0'))).toBe(false);
    for (const bit of [0, 7, 8 * 100 + 3, 8 * size - 1]) {
      const flipped = Buffer.from(signature);
      flipped[bit >> 3] ^= 1 << (bit & 7);
      expect(expectSameVerdict(publicKey, flipped)).toBe(false);
    }
    for (const other of ['sha384', 'sha512', 'sha1', 'sha224']) expect(expectSameVerdict(publicKey, sign(other, data, privateKey))).toBe(false);
  });

  it('refuses blocks a parsing check could be fooled by', () => {
    const fooling = {
      'fewer FF bytes, the digest moved up, garbage after it': block(size, 8, Buffer.concat([SHA256_DIGEST_INFO, digest]), 0x5a),
      'DigestInfo without its NULL': block(size, properPadding + 2, Buffer.concat([SHA256_DIGEST_INFO_WITHOUT_NULL, digest])),
      'block type 2 instead of 1': (() => {
        const typeTwo = block(size, properPadding, Buffer.concat([SHA256_DIGEST_INFO, digest]));
        typeTwo[1] = 0x02;
        return typeTwo;
      })(),
      'a zero in the padding': (() => {
        const holed = block(size, properPadding, Buffer.concat([SHA256_DIGEST_INFO, digest]));
        holed[10] = 0x00;
        return holed;
      })(),
    };
    for (const [name, fooled] of Object.entries(fooling)) {
      expect({ name, verified: expectSameVerdict(publicKey, signBlock(privateKey, fooled)) }).toEqual({ name, verified: false });
    }
  });

  it('refuses a signature not below the modulus, or of another length', () => {
    const modulus = Buffer.from(publicKey.export({ format: 'jwk' }).n!, 'base64url');
    const signature = sign('sha256', data, privateKey);
    expect(verifyRsaSha256(data, publicKey, modulus)).toBe(false);
    expect(verifyRsaSha256(data, publicKey, Buffer.alloc(size, 0xff))).toBe(false);
    expect(verifyRsaSha256(data, publicKey, Buffer.concat([Buffer.alloc(1), signature]))).toBe(false);
    expect(verifyRsaSha256(data, publicKey, signature.subarray(1))).toBe(false);
    expect(verifyRsaSha256(data, publicKey, Buffer.alloc(0))).toBe(false);
  });

  it('agrees with crypto.verify on random signatures and random single-byte changes', () => {
    const signature = sign('sha256', data, privateKey);
    for (let i = 0; i < 200; i++) {
      const changed = Buffer.from(signature);
      changed[randomBytes(2).readUInt16BE() % size] = randomBytes(1)[0];
      expectSameVerdict(publicKey, changed);
      const random = randomBytes(size);
      random[0] &= 0x7f; // below the modulus, whose top bit is set
      expect(expectSameVerdict(publicKey, random)).toBe(false);
    }
  });
});

describe('verifyRsaSha256 with keys that are not RSA', () => {
  it('never verifies, even a signature their own algorithm made', () => {
    const others = [
      generateKeyPairSync('ec', { namedCurve: 'P-256' }),
      generateKeyPairSync('ed25519'),
      generateKeyPairSync('rsa-pss', { modulusLength: 2048 }),
    ];
    for (const { publicKey, privateKey } of others) {
      const algorithm = publicKey.asymmetricKeyType === 'ed25519' ? null : 'sha256';
      const signature = sign(algorithm, data, privateKey);
      expect(verify(algorithm, data, publicKey, signature)).toBe(true);
      expect(verifyRsaSha256(data, publicKey, signature)).toBe(false);
    }
  });

  it('never verifies with an RSA key under 2048 bits (RFC 7518 §3.3), though crypto.verify would', () => {
    const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 1024 });
    const signature = sign('sha256', data, privateKey);
    expect(verify('sha256', data, publicKey, signature)).toBe(true);
    expect(verifyRsaSha256(data, publicKey, signature)).toBe(false);
  });
});
