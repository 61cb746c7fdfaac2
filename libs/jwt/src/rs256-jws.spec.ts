/**
 * Rs256Jws on its own, with keys made here: what it accepts, each refusal, and its header cache
 * (bounded, fed only by tokens that verified, and never standing in for the key lookup).
 */
import { createHash, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { b64, craftJwt, respelledSignature } from '../../../test/support/crafted-jwt';
import { Rs256Jws, type Rs256Claims, type Rs256Fault } from './rs256-jws';

const keyPair = () => generateKeyPairSync('rsa', { modulusLength: 2048 });
const signing = keyPair();
const stranger = keyPair();

const craft = (header: unknown, payload: unknown, key: KeyObject = signing.privateKey) => craftJwt(header, payload, key);
const HEADER = { alg: 'RS256', typ: 'JWT', kid: 'k1' };
const CLAIMS = { iss: 'im-auth', sub: '42', app_id: 'app', jti: 'j1', exp: 2_000_000_000 };

describe('Rs256Jws', () => {
  let keys: Map<string, KeyObject>;
  let jws: Rs256Jws;
  beforeEach(() => {
    keys = new Map([['k1', signing.publicKey]]);
    jws = new Rs256Jws((kid) => keys.get(kid));
  });
  const cacheOf = (verifier: Rs256Jws) => (verifier as unknown as { headers: Map<string, string> }).headers;

  it('answers the claims of a token signed by the key its kid names', () => {
    const token = craft(HEADER, { ...CLAIMS, act: { sub: 'admin:1' } });
    // Twice: the second time the header is the previous token's.
    expect(jws.verify(token)).toEqual({ ...CLAIMS, act: { sub: 'admin:1' } });
    expect(jws.verify(token)).toEqual({ ...CLAIMS, act: { sub: 'admin:1' } });
  });

  it('refuses each broken part with its reason, the same the first time and once the header is cached', () => {
    const valid = craft(HEADER, CLAIMS);
    const [headerPart, payloadPart, signaturePart] = valid.split('.');
    const cases: Array<[string, string, Rs256Fault]> = [
      ['empty', '', 'malformed'],
      ['two parts', `${headerPart}.${payloadPart}`, 'malformed'],
      ['four parts', `${valid}.x`, 'malformed'],
      ['empty header', `.${payloadPart}.${signaturePart}`, 'malformed'],
      ['empty payload', `${headerPart}..${signaturePart}`, 'malformed'],
      ['header not JSON', `${b64('{')}.${payloadPart}.${signaturePart}`, 'malformed'],
      ['header with padding', `${headerPart}=.${payloadPart}.${signaturePart}`, 'malformed'],
      ['header null', craft(null, CLAIMS), 'no-kid'],
      ['header a string', craft('"RS256"', CLAIMS), 'no-kid'],
      ['no kid', craft({ alg: 'RS256' }, CLAIMS), 'no-kid'],
      ['empty kid', craft({ alg: 'RS256', kid: '' }, CLAIMS), 'no-kid'],
      ['kid a number', craft({ alg: 'RS256', kid: 1 }, CLAIMS), 'no-kid'],
      ['alg HS256', craft({ ...HEADER, alg: 'HS256' }, CLAIMS), 'not-rs256'],
      ['alg none, unsigned', `${b64({ alg: 'none', kid: 'k1' })}.${payloadPart}.`, 'not-rs256'],
      ['alg rs256', craft({ ...HEADER, alg: 'rs256' }, CLAIMS), 'not-rs256'],
      ['alg PS256', craft({ ...HEADER, alg: 'PS256' }, CLAIMS), 'not-rs256'],
      ['unknown kid', craft({ ...HEADER, kid: 'k9' }, CLAIMS), 'unknown-key'],
      ['signed by another key', craft(HEADER, CLAIMS, stranger.privateKey), 'bad-signature'],
      ['payload swapped', `${headerPart}.${b64({ ...CLAIMS, sub: '1' })}.${signaturePart}`, 'bad-signature'],
      ['signature tampered', `${headerPart}.${payloadPart}.${signaturePart.slice(0, 100)}${signaturePart[100] === 'A' ? 'B' : 'A'}${signaturePart.slice(101)}`, 'bad-signature'],
      ['signature cut', valid.slice(0, -10), 'bad-signature'],
      ['no signature', `${headerPart}.${payloadPart}.`, 'bad-signature'],
      // The signature is checked before the claims are decoded: what it does not cover is never read.
      ['a character outside ASCII in the payload', `${headerPart}.${payloadPart.slice(0, -1)}\u0143.${signaturePart}`, 'bad-signature'],
      ['signature with padding', `${valid}=`, 'malformed'],
      ['signature of an impossible length', `${valid}AAA`, 'malformed'],
      ['a character outside base64url in the signature', `${headerPart}.${payloadPart}.${signaturePart.slice(0, 9)}!${signaturePart.slice(9)}`, 'malformed'],
      // Base64's own characters for base64url's: Node's decoder reads them alike, this one refuses them.
      ['a + in the signature', `${headerPart}.${payloadPart}.${signaturePart.slice(0, 9)}+${signaturePart.slice(10)}`, 'malformed'],
      ['a / in the signature', `${headerPart}.${payloadPart}.${signaturePart.slice(0, 9)}/${signaturePart.slice(10)}`, 'malformed'],
      ['a character outside ASCII in the signature', `${valid.slice(0, -1)}\u0143`, 'malformed'],
      // Node's decoder skips what it does not know and stops at "=": a character in place of one of the signature's.
      ...['=', ' ', '\n', '!', '.'].flatMap((odd): Array<[string, string, Rs256Fault]> => [
        [`${JSON.stringify(odd)} for a character of the signature`, `${headerPart}.${payloadPart}.${signaturePart.slice(0, 9)}${odd}${signaturePart.slice(10)}`, 'malformed'],
        [`${JSON.stringify(odd)} for the signature's last character`, `${valid.slice(0, -1)}${odd}`, 'malformed'],
      ]),
      ['stray trailing bits in the signature', respelledSignature(valid), 'malformed'],
      ['claims null', craft(HEADER, null), 'malformed'],
      ['claims a number', craft(HEADER, 42), 'malformed'],
      ['claims not JSON', craft(HEADER, 'not json {'), 'malformed'],
    ];
    for (const [name, token, fault] of cases) {
      // A valid token first, so that each case meets a cached header of its own kid.
      expect(jws.verify(valid)).toEqual(CLAIMS);
      expect({ name, verdict: jws.verify(token) }).toEqual({ name, verdict: fault });
      expect({ name, verdict: jws.verify(token) }).toEqual({ name, verdict: fault });
    }
  });

  it('says which kid was refused as unknown or not RS256', () => {
    expect(jws.verify(craft({ ...HEADER, kid: 'rotated' }, CLAIMS))).toBe('unknown-key');
    expect(jws.rejectedKid).toBe('rotated');
    expect(jws.verify(craft({ ...HEADER, alg: 'HS256', kid: 'k7' }, CLAIMS))).toBe('not-rs256');
    expect(jws.rejectedKid).toBe('k7');
  });

  it('looks the key up on every call: a key the lookup drops stops verifying, one it adds starts', () => {
    const second = keyPair();
    const token = craft({ ...HEADER, kid: 'k2' }, CLAIMS, second.privateKey);
    expect(jws.verify(token)).toBe('unknown-key');
    keys.set('k2', second.publicKey);
    expect(jws.verify(token)).toEqual(CLAIMS);
    keys.delete('k2');
    expect(jws.verify(token)).toBe('unknown-key'); // the previous token's header, cached
    expect(jws.verify(craft(HEADER, CLAIMS))).toEqual(CLAIMS);
    expect(jws.verify(token)).toBe('unknown-key'); // cached, not the previous one
  });

  it('verifies each token against its own key when tokens of two keys alternate', () => {
    const second = keyPair();
    keys.set('k2', second.publicKey);
    const one = craft(HEADER, { ...CLAIMS, sub: '1' });
    const two = craft({ ...HEADER, kid: 'k2' }, { ...CLAIMS, sub: '2' }, second.privateKey);
    const twoSignedByOne = craft({ ...HEADER, kid: 'k2' }, { ...CLAIMS, sub: '3' });
    for (let i = 0; i < 3; i++) {
      expect(jws.verify(one)).toMatchObject({ sub: '1' });
      expect(jws.verify(two)).toMatchObject({ sub: '2' });
      expect(jws.verify(twoSignedByOne)).toBe('bad-signature');
    }
  });

  it('never verifies with a key the lookup answers that is not an RSA key of 2048 bits or more', () => {
    const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const small = generateKeyPairSync('rsa', { modulusLength: 1024 });
    keys.set('ec', ec.publicKey);
    keys.set('small', small.publicKey);
    // Each signed by its own key (an ECDSA signature for the EC one), as crypto.verify would have taken them.
    expect(jws.verify(craft({ ...HEADER, kid: 'ec' }, CLAIMS, ec.privateKey))).toBe('bad-signature');
    expect(jws.verify(craft({ ...HEADER, kid: 'small' }, CLAIMS, small.privateKey))).toBe('bad-signature');
  });

  it('caches only headers of tokens that verified, at most 64, the oldest leaving first', () => {
    // Made-up headers naming a real kid, badly signed: none is kept.
    for (let i = 0; i < 100; i++) expect(jws.verify(craft({ ...HEADER, n: i }, CLAIMS, stranger.privateKey))).toBe('bad-signature');
    expect(cacheOf(jws).size).toBe(0);
    const headers = Array.from({ length: 100 }, (_, i) => ({ ...HEADER, n: i }));
    for (const header of headers) expect(jws.verify(craft(header, CLAIMS))).toEqual(CLAIMS);
    expect([...cacheOf(jws).keys()]).toEqual(headers.slice(-64).map(b64));
    // An evicted header is parsed again and still verifies.
    expect(jws.verify(craft(headers[0], CLAIMS))).toEqual(CLAIMS);
    expect(cacheOf(jws).size).toBe(64);
  });

  it('decodes every length of base64url, every byte value, as Node does', () => {
    for (let length = 0; length < 70; length++) {
      const bytes = createHash('sha512').update(String(length)).digest();
      const claims = { ...CLAIMS, pad: bytes.subarray(0, length % 64).toString('latin1') };
      expect(jws.verify(craft(HEADER, claims))).toEqual(claims);
    }
  });

  it('takes a token far bigger than its buffer, and still verifies normal ones after', () => {
    const big = { ...CLAIMS, pad: 'x'.repeat(100_000) };
    expect((jws.verify(craft(HEADER, big)) as Rs256Claims).pad).toBe(big.pad);
    expect(jws.verify(craft(HEADER, CLAIMS))).toEqual(CLAIMS);
  });
});
