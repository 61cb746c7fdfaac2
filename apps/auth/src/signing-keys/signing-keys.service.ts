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
 * Revocation (`revoke()`, `npm run cli -- keys revoke KID`) is for a leaked key: it retires the key
 * (rotating first when it is the active one), marks it revoked, which takes it out of verification
 * and the JWKS, and revokes every session it may have signed, in one transaction.
 *
 * Both announce the change with NOTIFY on `KEY_CHANGES_CHANNEL` when they commit; every instance
 * re-reads the keys when told (signing-key-follower.ts), and in the background every
 * SIGNING_KEYS_REFRESH_INTERVAL_MS anyway, for a notification it missed; a token with an unknown `kid`
 * triggers a reload at once (rate-limited).
 */
import { Injectable, Logger, OnModuleInit } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { createPrivateKey, createPublicKey, generateKeyPair, randomBytes, type KeyObject } from 'node:crypto';
import { promisify } from 'node:util';
import { IsNull, Repository, type EntityManager } from 'typeorm';
import { uniqueViolation } from '@app/persistence';
import { SigningKeyEntity } from './signing-key.entity';
import { SecretBox } from '../crypto/secret-box';
import { SessionRevoker } from '../sessions/session-revoker';

const generateKeyPairAsync = promisify(generateKeyPair);
export const SIGNING_ALGORITHM = 'RS256';
/**
 * How often an unknown `kid` (or a JWKS request) may trigger a reload: at most one small query a
 * second per instance, whatever garbage arrives, and a token signed by a key that another instance
 * has just made verifies here within a second.
 */
const RELOAD_INTERVAL_MS = 1_000;
/** The NOTIFY channel of rotations and revocations; the payload is the kid that changed. */
export const KEY_CHANGES_CHANNEL = 'signing_key_changes';
/**
 * A key's sessions, for `revoke()`, are those issued from its creation until it stopped signing,
 * widened on both sides by this: other instances sign with a key until they hear of a rotation
 * (at once, or at their next refresh, a minute at most), and issue times come from each instance's clock.
 */
const SIGNING_LAG_SECONDS = 60;
/**
 * Added to the longest token lifetime when deciding how long a retired key still verifies: other
 * instances sign with a retired key until their next refresh (a minute at most), and clocks drift.
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
  revoked_at: Date | null;
  active: boolean;
}

export interface RevokedKey {
  kid: string;
  /** When it was revoked (earlier, when it already was). */
  revoked_at: Date;
  /** The key made active in its place when it was the active one, else null. */
  replaced_by: string | null;
  /** Live sessions revoked with it (0 when it already was revoked). */
  sessions_revoked: number;
}

type NewSigningKey = Pick<SigningKeyEntity, 'kid' | 'algorithm' | 'publicKey' | 'privateKeySealed' | 'retiredAt' | 'revokedAt'>;

/** The active key and every retired key whose tokens may still be unexpired; never a revoked one. */
const LIVE_KEYS = `
  SELECT kid, public_key, private_key_sealed, retired_at
    FROM signing_key
   WHERE revoked_at IS NULL
     AND (retired_at IS NULL
          OR retired_at > now() - make_interval(secs => $1 + (SELECT COALESCE(MAX(token_ttl_seconds), 0) FROM app)))
   ORDER BY created_at`;

@Injectable()
export class SigningKeysService implements OnModuleInit {
  private readonly logger = new Logger(SigningKeysService.name);
  private active: ActiveSigningKey | undefined;
  private verificationKeys = new Map<string, KeyObject>();
  private lastReload = 0;
  private lastUnknownKidReload = 0;
  private reloading: Promise<void> | undefined;

  constructor(
    @InjectRepository(SigningKeyEntity) private readonly keys: Repository<SigningKeyEntity>,
    private readonly secretBox: SecretBox,
    private readonly sessions: SessionRevoker,
  ) {}

  async onModuleInit(): Promise<void> {
    if (!(await this.keys.existsBy({ retiredAt: IsNull() }))) await this.createFirstKey();
    await this.refresh();
  }

  activeKey(): ActiveSigningKey {
    if (!this.active) throw new Error('No active signing key is loaded');
    return this.active;
  }

  /** The public key for a `kid` among the keys loaded now, without reloading (the synchronous path). */
  loadedVerificationKey(kid: string): KeyObject | undefined {
    return this.verificationKeys.get(kid);
  }

  /**
   * The public key for a `kid`, reloading (at most once a second) when it is unknown. Its own clock:
   * the follower's re-reads (every second on the embedded database) must not hold it off.
   */
  async verificationKey(kid: string): Promise<KeyObject | undefined> {
    const known = this.verificationKeys.get(kid);
    if (known || Date.now() - this.lastUnknownKidReload < RELOAD_INTERVAL_MS) return known;
    this.lastUnknownKidReload = Date.now();
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
   * failing on the one-active index. Other instances hear of it when it commits (NOTIFY) and sign
   * with the new key from then on.
   */
  async rotate(): Promise<RotatedKeys> {
    const fresh = await this.generateKey();
    const retired = await this.keys.manager.transaction(async (manager) => {
      await manager.query('LOCK TABLE signing_key IN SHARE ROW EXCLUSIVE MODE');
      return this.replaceActive(manager, fresh);
    });
    this.logger.log(`Rotated the signing key: ${fresh.kid} is active${retired ? `, ${retired} retired` : ''}`);
    await this.reloadAfterCommit();
    return { kid: fresh.kid, retired };
  }

  /**
   * Revokes a key (a leaked one): when it is the active key, a new one takes its place first; then
   * the key is marked revoked (it stops verifying and leaves the JWKS) and every live session it
   * may have signed is revoked, in one transaction. Null when there is no such key. Revoking a
   * revoked key changes nothing.
   */
  async revoke(kid: string): Promise<RevokedKey | null> {
    const replacement = await this.generateKey(); // needed only if `kid` is active; made outside the lock
    const revoked = await this.keys.manager.transaction(async (manager): Promise<RevokedKey | null> => {
      await manager.query('LOCK TABLE signing_key IN SHARE ROW EXCLUSIVE MODE');
      const [key]: Array<{ created_at: Date; retired_at: Date | null; revoked_at: Date | null }> = await manager.query(
        'SELECT created_at, retired_at, revoked_at FROM signing_key WHERE kid = $1',
        [kid],
      );
      if (!key) return null;
      if (key.revoked_at) return { kid, revoked_at: key.revoked_at, replaced_by: null, sessions_revoked: 0 };
      const replacedBy = key.retired_at === null ? (await this.replaceActive(manager, replacement), replacement.kid) : null;
      const [[marked]]: [Array<{ revoked_at: Date; retired_at: Date }>, number] = await manager.query(
        'UPDATE signing_key SET revoked_at = now() WHERE kid = $1 RETURNING revoked_at, retired_at',
        [kid],
      );
      const lag = SIGNING_LAG_SECONDS * 1000;
      const sessionsRevoked = await this.sessions.revokeIssuedBetween(
        new Date(key.created_at.getTime() - lag),
        new Date(marked.retired_at.getTime() + lag),
        manager,
      );
      await this.announce(manager, kid);
      return { kid, revoked_at: marked.revoked_at, replaced_by: replacedBy, sessions_revoked: sessionsRevoked };
    });
    if (revoked) {
      const replaced = revoked.replaced_by ? `; ${revoked.replaced_by} is active` : '';
      this.logger.warn(`Revoked the signing key ${kid} and ${revoked.sessions_revoked} sessions${replaced}`);
    }
    await this.reloadAfterCommit();
    return revoked;
  }

  /** Every key ever made, oldest first (retired and revoked keys stay in the table for the record). */
  async list(): Promise<SigningKeySummary[]> {
    const rows = await this.keys.find({ select: { kid: true, createdAt: true, retiredAt: true, revokedAt: true }, order: { createdAt: 'ASC' } });
    return rows.map((row) => ({
      kid: row.kid,
      created_at: row.createdAt,
      retired_at: row.retiredAt,
      revoked_at: row.revokedAt,
      active: row.retiredAt === null,
    }));
  }

  /** Retires the active key, makes `fresh` the active one and announces it (in the caller's locked transaction); the retired kid. */
  private async replaceActive(manager: EntityManager, fresh: NewSigningKey): Promise<string | null> {
    // An UPDATE answers [rows, affected count].
    const [rows]: [Array<{ kid: string }>, number] = await manager.query(
      'UPDATE signing_key SET retired_at = now() WHERE retired_at IS NULL RETURNING kid',
    );
    await manager.insert(SigningKeyEntity, fresh);
    await this.announce(manager, fresh.kid);
    return rows[0]?.kid ?? null;
  }

  /** NOTIFY, delivered to every listening instance when the transaction commits (and never if it does not). */
  private async announce(manager: EntityManager, kid: string): Promise<void> {
    await manager.query('SELECT pg_notify($1, $2)', [KEY_CHANGES_CHANNEL, kid]);
  }

  /** After a change committed here: a reload in flight may have read the table before the commit, so wait it out (its own caller hears of its failure), then read again. */
  private async reloadAfterCommit(): Promise<void> {
    await this.reloading?.then(undefined, () => undefined);
    await this.refresh();
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

  private async generateKey(): Promise<NewSigningKey> {
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
      revokedAt: null,
    };
  }
}
