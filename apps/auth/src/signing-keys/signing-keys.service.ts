/**
 * The keys that sign access tokens. One key is active; its private half is kept in memory as a
 * parsed `KeyObject` (jsonwebtoken re-parses a PEM string on every call, several times slower) and
 * sealed under the master key at rest. Public keys of every key not yet retired past the longest
 * token lifetime verify tokens, looked up by the token's `kid`.
 */
import { Injectable, Logger, OnModuleInit } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { createPrivateKey, createPublicKey, generateKeyPair, randomBytes, type KeyObject } from 'node:crypto';
import { promisify } from 'node:util';
import { IsNull, Repository } from 'typeorm';
import { uniqueViolation } from '@app/persistence';
import { SigningKeyEntity } from './signing-key.entity';
import { SecretBox } from '../crypto/secret-box';

const generateKeyPairAsync = promisify(generateKeyPair);
export const SIGNING_ALGORITHM = 'RS256';
/** How often an unknown `kid` may trigger a reload, so garbage tokens cannot hammer the database. */
const RELOAD_INTERVAL_MS = 10_000;

export interface ActiveSigningKey {
  readonly kid: string;
  readonly privateKey: KeyObject;
}

@Injectable()
export class SigningKeysService implements OnModuleInit {
  private readonly logger = new Logger(SigningKeysService.name);
  private active: ActiveSigningKey | undefined;
  private readonly verificationKeys = new Map<string, KeyObject>();
  private lastReload = 0;

  constructor(
    @InjectRepository(SigningKeyEntity) private readonly keys: Repository<SigningKeyEntity>,
    private readonly secretBox: SecretBox,
  ) {}

  async onModuleInit(): Promise<void> {
    if (!(await this.keys.existsBy({ retiredAt: IsNull() }))) await this.createActiveKey();
    await this.reload();
  }

  activeKey(): ActiveSigningKey {
    if (!this.active) throw new Error('No active signing key is loaded');
    return this.active;
  }

  /** The public key for a `kid`, reloading (at most every few seconds) when it is unknown. */
  async verificationKey(kid: string): Promise<KeyObject | undefined> {
    const known = this.verificationKeys.get(kid);
    if (known || Date.now() - this.lastReload < RELOAD_INTERVAL_MS) return known;
    await this.reload();
    return this.verificationKeys.get(kid);
  }

  private async reload(): Promise<void> {
    this.lastReload = Date.now();
    const rows = await this.keys.find({ order: { createdAt: 'ASC' } });
    for (const row of rows) {
      if (!this.verificationKeys.has(row.kid)) this.verificationKeys.set(row.kid, createPublicKey(row.publicKey));
      if (row.retiredAt === null && this.active?.kid !== row.kid) {
        this.active = { kid: row.kid, privateKey: createPrivateKey(this.secretBox.open(row.privateKeySealed)) };
      }
    }
  }

  private async createActiveKey(): Promise<void> {
    const { publicKey, privateKey } = await generateKeyPairAsync('rsa', {
      modulusLength: 2048,
      publicKeyEncoding: { type: 'spki', format: 'pem' },
      privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
    });
    try {
      await this.keys.insert({
        kid: randomBytes(12).toString('base64url'),
        algorithm: SIGNING_ALGORITHM,
        publicKey,
        privateKeySealed: this.secretBox.seal(privateKey),
        retiredAt: null,
      });
      this.logger.log('Created the first signing key');
    } catch (error) {
      // Another instance starting at the same moment created it first: use theirs.
      if (uniqueViolation(error) === undefined) throw error;
    }
  }
}
