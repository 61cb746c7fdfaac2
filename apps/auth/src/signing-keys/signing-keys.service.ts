/**
 * The keys that sign access tokens. One key is active; its private half is kept in memory as a
 * parsed `KeyObject` (jsonwebtoken re-parses a PEM string on every call, several times slower) and
 * sealed under the master key at rest.
 *
 * Rotation (`rotate()`, `npm run cli -- keys rotate`) retires the active key and inserts a new one
 * in one transaction. A retired key keeps verifying, and stays in the JWKS, while tokens signed
 * with it may still be valid: for the longest token lifetime of any app, plus a margin that covers
 * the instances still signing with it until their next refresh (`RETIRED_KEY_MARGIN_SECONDS`).
 *
 * Every instance re-reads the keys in the background (`REFRESH_INTERVAL_MS`), so a rotation made
 * by another instance or the CLI reaches its signing within that interval; a token with an unknown
 * `kid` triggers a reload at once (rate-limited).
 */
import { Injectable, Logger, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { createPrivateKey, createPublicKey, generateKeyPair, randomBytes, type KeyObject } from 'node:crypto';
import { promisify } from 'node:util';
import { IsNull, Repository } from 'typeorm';
import { uniqueViolation } from '@app/persistence';
import { SigningKeyEntity } from './signing-key.entity';
import { SecretBox } from '../crypto/secret-box';

const generateKeyPairAsync = promisify(generateKeyPair);
export const SIGNING_ALGORITHM = 'RS256';
/**
 * How often an unknown `kid` (or a JWKS request) may trigger a reload: at most one small query a
 * second per instance, whatever garbage arrives, and a token signed by a key that another instance
 * has just made verifies here within a second.
 */
const RELOAD_INTERVAL_MS = 1_000;
/** How often every instance re-reads the keys, to pick up a rotation made elsewhere. */
export const REFRESH_INTERVAL_MS = 30_000;
/**
 * Added to the longest token lifetime when deciding how long a retired key still verifies: other
 * instances sign with a retired key until their next refresh (30 s), and clocks drift.
 */
const RETIRED_KEY_MARGIN_SECONDS = 600;

export interface ActiveSigningKey {
  readonly kid: string;
  readonly privateKey: KeyObject;
}

/** A public key as RFC 7517 publishes it. */
export interface PublishedKey {
  kty: 'RSA';
  n: string;
  e: string;
  kid: string;
  alg: typeof SIGNING_ALGORITHM;
  use: 'sig';
}

export interface RotatedKeys {
  /** The new active key. */
  kid: string;
  /** The key it replaced, or null when none was active. */
  retired: string | null;
}

/** One key as the CLI lists it. */
export interface SigningKeySummary {
  kid: string;
  created_at: Date;
  retired_at: Date | null;
  active: boolean;
}

/** The active key and every retired key whose tokens may still be unexpired. */
const LIVE_KEYS = `
  SELECT kid, public_key, private_key_sealed, retired_at
    FROM signing_key
   WHERE retired_at IS NULL
      OR retired_at > now() - make_interval(secs => $1 + (SELECT COALESCE(MAX(token_ttl_seconds), 0) FROM app))
   ORDER BY created_at`;

@Injectable()
export class SigningKeysService implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger(SigningKeysService.name);
  private active: ActiveSigningKey | undefined;
  private verificationKeys = new Map<string, KeyObject>();
  private lastReload = 0;
  private reloading: Promise<void> | undefined;
  private refreshTimer: NodeJS.Timeout | undefined;

  constructor(
    @InjectRepository(SigningKeyEntity) private readonly keys: Repository<SigningKeyEntity>,
    private readonly secretBox: SecretBox,
  ) {}

  async onModuleInit(): Promise<void> {
    if (!(await this.keys.existsBy({ retiredAt: IsNull() }))) await this.createFirstKey();
    await this.refresh();
    this.refreshTimer = setInterval(() => {
      this.refresh().catch((error: Error) => this.logger.warn(`Could not refresh the signing keys: ${error.message}`));
    }, REFRESH_INTERVAL_MS);
    this.refreshTimer.unref();
  }

  onModuleDestroy(): void {
    clearInterval(this.refreshTimer);
  }

  activeKey(): ActiveSigningKey {
    if (!this.active) throw new Error('No active signing key is loaded');
    return this.active;
  }

  /** The public key for a `kid` among the keys loaded now, without reloading (the synchronous path). */
  loadedVerificationKey(kid: string): KeyObject | undefined {
    return this.verificationKeys.get(kid);
  }

  /** The public key for a `kid`, reloading (at most once a second) when it is unknown. */
  async verificationKey(kid: string): Promise<KeyObject | undefined> {
    const known = this.verificationKeys.get(kid);
    if (known || Date.now() - this.lastReload < RELOAD_INTERVAL_MS) return known;
    await this.refresh();
    return this.verificationKeys.get(kid);
  }

  /** The JWKS: every key that verifies, the active one first. Re-read when older than a second. */
  async publishedKeys(): Promise<PublishedKey[]> {
    if (Date.now() - this.lastReload >= RELOAD_INTERVAL_MS) await this.refresh();
    const activeKid = this.active?.kid;
    const kids = [...this.verificationKeys.keys()].sort((a, b) => Number(b === activeKid) - Number(a === activeKid));
    return kids.map((kid) => {
      const { n, e } = this.verificationKeys.get(kid)!.export({ format: 'jwk' });
      return { kty: 'RSA', n: n!, e: e!, kid, alg: SIGNING_ALGORITHM, use: 'sig' };
    });
  }

  /**
   * Re-reads the keys: the active one signs from now on; retired ones past their time stop
   * verifying. Concurrent callers share one query.
   */
  refresh(): Promise<void> {
    this.reloading ??= this.reload().finally(() => (this.reloading = undefined));
    return this.reloading;
  }

  private async reload(): Promise<void> {
    this.lastReload = Date.now();
    const rows: Array<{ kid: string; public_key: string; private_key_sealed: string; retired_at: Date | null }> = await this.keys.query(
      LIVE_KEYS,
      [RETIRED_KEY_MARGIN_SECONDS],
    );
    const verificationKeys = new Map<string, KeyObject>();
    for (const row of rows) {
      verificationKeys.set(row.kid, this.verificationKeys.get(row.kid) ?? createPublicKey(row.public_key));
      if (row.retired_at === null && this.active?.kid !== row.kid) {
        this.active = { kid: row.kid, privateKey: createPrivateKey(this.secretBox.open(row.private_key_sealed)) };
      }
    }
    this.verificationKeys = verificationKeys;
  }

  /**
   * Retires the active key and makes a new one active, in one transaction. The table lock makes
   * concurrent rotations take turns (each retires the key the previous one made) instead of one
   * failing on the one-active index. Other instances pick the new key up at their next refresh.
   */
  async rotate(): Promise<RotatedKeys> {
    const fresh = await this.generateKey();
    const retired = await this.keys.manager.transaction(async (manager) => {
      await manager.query('LOCK TABLE signing_key IN SHARE ROW EXCLUSIVE MODE');
      // An UPDATE answers [rows, affected count].
      const [rows]: [Array<{ kid: string }>, number] = await manager.query(
        'UPDATE signing_key SET retired_at = now() WHERE retired_at IS NULL RETURNING kid',
      );
      await manager.insert(SigningKeyEntity, fresh);
      return rows[0]?.kid ?? null;
    });
    this.logger.log(`Rotated the signing key: ${fresh.kid} is active${retired ? `, ${retired} retired` : ''}`);
    // A reload in flight may have read the table before the commit: wait it out (its own caller
    // hears of its failure), then read again.
    await this.reloading?.then(undefined, () => undefined);
    await this.refresh();
    return { kid: fresh.kid, retired };
  }

  /** Every key ever made, oldest first (retired keys stay in the table for the record). */
  async list(): Promise<SigningKeySummary[]> {
    const rows = await this.keys.find({ select: { kid: true, createdAt: true, retiredAt: true }, order: { createdAt: 'ASC' } });
    return rows.map((row) => ({ kid: row.kid, created_at: row.createdAt, retired_at: row.retiredAt, active: row.retiredAt === null }));
  }

  private async createFirstKey(): Promise<void> {
    try {
      await this.keys.insert(await this.generateKey());
      this.logger.log('Created the first signing key');
    } catch (error) {
      // Another instance starting at the same moment created it first: use theirs.
      if (uniqueViolation(error) === undefined) throw error;
    }
  }

  private async generateKey(): Promise<Pick<SigningKeyEntity, 'kid' | 'algorithm' | 'publicKey' | 'privateKeySealed' | 'retiredAt'>> {
    const { publicKey, privateKey } = await generateKeyPairAsync('rsa', {
      modulusLength: 2048,
      publicKeyEncoding: { type: 'spki', format: 'pem' },
      privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
    });
    return {
      kid: randomBytes(12).toString('base64url'),
      algorithm: SIGNING_ALGORITHM,
      publicKey,
      privateKeySealed: this.secretBox.seal(privateKey),
      retiredAt: null,
    };
  }
}
