/**
 * The password hasher on its own: argon2id for everything it makes, bcrypt only read (users
 * imported from another system), and every hash that is not today's argon2id reported stale.
 * Small argon2 parameters keep it fast; the rules do not depend on them.
 */
import { hash as argon2Hash } from '@node-rs/argon2';
import { hash as bcryptHash, verify as bcryptVerify } from '@node-rs/bcrypt';
import { loadServiceConfig } from '@app/config';
import { PasswordHasher, costProfileOf } from './password-hasher';
import { HashingUnavailable } from './hashing-pool';

const PASSWORD = 'correct horse battery';
const ARGON2ID = 2;
const ARGON2I = 1;

describe('PasswordHasher', () => {
  const hasher = new PasswordHasher(loadServiceConfig({ ARGON2_MEMORY_KIB: '1024', ARGON2_TIME_COST: '1' }));
  let bcrypt: string;

  beforeAll(async () => {
    await hasher.onModuleInit();
    bcrypt = await bcryptHash(PASSWORD, 4);
  });

  afterAll(() => hasher.onApplicationShutdown());

  describe('verify', () => {
    it('accepts the right password for its own argon2id hash and refuses a wrong one', async () => {
      const stored = await hasher.hash(PASSWORD);
      expect(stored).toMatch(/^\$argon2id\$v=19\$m=1024,t=1,p=1\$/);
      expect(await hasher.verify(stored, PASSWORD)).toBe(true);
      expect(await hasher.verify(stored, 'correct horse battery!')).toBe(false);
    });

    it('accepts the right password for a bcrypt hash and refuses a wrong one', async () => {
      expect(bcrypt).toMatch(/^\$2b\$04\$/);
      expect(await hasher.verify(bcrypt, PASSWORD)).toBe(true);
      expect(await hasher.verify(bcrypt, 'correct horse batterY')).toBe(false);
      expect(await hasher.verify(bcrypt, '')).toBe(false);
    });

    it('reads the $2a$ and $2y$ spellings of bcrypt as well', async () => {
      for (const prefix of ['$2a$', '$2y$']) {
        const stored = prefix + bcrypt.slice(4);
        expect(await hasher.verify(stored, PASSWORD)).toBe(true);
        expect(await hasher.verify(stored, 'wrong password')).toBe(false);
      }
    });

    it('refuses $2x$ hashes, which the bcrypt library itself would still accept', async () => {
      const legacy = `$2x$${bcrypt.slice(4)}`;
      expect(await bcryptVerify(PASSWORD, legacy)).toBe(true);
      expect(await hasher.verify(legacy, PASSWORD)).toBe(false);
    });

    it('answers false, without throwing, for a corrupt bcrypt hash', async () => {
      const corrupt = [
        bcrypt.slice(0, 40), // truncated
        `${bcrypt}x`, // too long
        `$2b$99$${bcrypt.slice(7)}`, // impossible cost
        `$2b$04$${'!'.repeat(53)}`, // not bcrypt's base64
        '$2b$',
      ];
      for (const stored of corrupt) {
        await expect(hasher.verify(stored, PASSWORD)).resolves.toBe(false);
      }
    });

    it('answers false for a corrupt argon2 hash and for a scheme it does not know', async () => {
      const stored = await hasher.hash(PASSWORD);
      await expect(hasher.verify(stored.slice(0, 30), PASSWORD)).resolves.toBe(false);
      await expect(hasher.verify(PASSWORD, PASSWORD)).resolves.toBe(false); // a plain-text "hash"
      await expect(hasher.verify('', '')).resolves.toBe(false);
      await expect(hasher.verify('{SSHA}c2FsdGVkaGFzaA==', PASSWORD)).resolves.toBe(false);
    });

    it('throws, rather than answering false, when its pool cannot do the work', async () => {
      const stopped = new PasswordHasher(loadServiceConfig({ ARGON2_MEMORY_KIB: '1024', ARGON2_TIME_COST: '1' }));
      const stored = await hasher.hash(PASSWORD);
      await stopped.onApplicationShutdown();
      // A right password must not come back as a wrong one (which the login throttle would count).
      await expect(stopped.verify(stored, PASSWORD)).rejects.toBeInstanceOf(HashingUnavailable);
    });

    it('spends a verification on an unknown user and answers false', async () => {
      await expect(hasher.verifyNothing(PASSWORD)).resolves.toBe(false);
    });
  });

  describe('needsRehash', () => {
    it('is false for an argon2id hash made with the current parameters', async () => {
      expect(hasher.needsRehash(await hasher.hash(PASSWORD))).toBe(false);
    });

    it('is true for every bcrypt hash', () => {
      expect(hasher.needsRehash(bcrypt)).toBe(true);
      expect(hasher.needsRehash(`$2y$${bcrypt.slice(4)}`)).toBe(true);
    });

    it('is true for argon2id made with other memory, time or parallelism', async () => {
      const others = [
        { memoryCost: 2048, timeCost: 1, parallelism: 1 },
        { memoryCost: 1024, timeCost: 2, parallelism: 1 },
        { memoryCost: 1024, timeCost: 1, parallelism: 2 },
      ];
      for (const parameters of others) {
        const stored = await argon2Hash(PASSWORD, { algorithm: ARGON2ID, ...parameters });
        expect(await hasher.verify(stored, PASSWORD)).toBe(true);
        expect(hasher.needsRehash(stored)).toBe(true);
      }
    });

    it('is true for another argon2 variant with the same parameters, and for anything unreadable', async () => {
      expect(hasher.needsRehash(await argon2Hash(PASSWORD, { algorithm: ARGON2I, memoryCost: 1024, timeCost: 1, parallelism: 1 }))).toBe(true);
      expect(hasher.needsRehash('$argon2id$garbage')).toBe(true);
    });

    it('is false with the default configuration for a hash made with OWASP parameters (19 MiB, t=2, p=1)', async () => {
      const defaults = new PasswordHasher(loadServiceConfig({}));
      const stored = await argon2Hash(PASSWORD, { algorithm: ARGON2ID, memoryCost: 19456, timeCost: 2, parallelism: 1 });
      expect(defaults.needsRehash(stored)).toBe(false);
      expect(hasher.needsRehash(stored)).toBe(true);
    });
  });

  describe('isVerifiableHash', () => {
    it('accepts a whole bcrypt hash of any spelling and a whole argon2id PHC string', async () => {
      expect(hasher.isVerifiableHash(bcrypt)).toBe(true);
      expect(hasher.isVerifiableHash(`$2a$${bcrypt.slice(4)}`)).toBe(true);
      expect(hasher.isVerifiableHash(`$2y$${bcrypt.slice(4)}`)).toBe(true);
      expect(hasher.isVerifiableHash(await hasher.hash(PASSWORD))).toBe(true);
    });

    it('refuses partial, foreign and unreadable hashes', async () => {
      const refused = [
        bcrypt.slice(0, 59),
        `${bcrypt}A`,
        `$2x$${bcrypt.slice(4)}`,
        `$2b$03$${bcrypt.slice(7)}`,
        `$2b$32$${bcrypt.slice(7)}`,
        await argon2Hash(PASSWORD, { algorithm: ARGON2I, memoryCost: 1024, timeCost: 1, parallelism: 1 }),
        '$argon2id$v=19$m=1024,t=1,p=1$',
        PASSWORD,
        '',
      ];
      for (const stored of refused) expect({ stored, verifiable: hasher.isVerifiableHash(stored) }).toEqual({ stored, verifiable: false });
    });
  });

  describe('the failure floor: a failed verification says nothing about the kind of hash', () => {
    /** A hasher of its own: what it has met is its state. */
    const freshHasher = async () => {
      const fresh = new PasswordHasher(loadServiceConfig({ ARGON2_MEMORY_KIB: '1024', ARGON2_TIME_COST: '1' }));
      await fresh.onModuleInit();
      return fresh;
    };
    const timed = async <T>(work: () => Promise<T>): Promise<{ value: T; ms: number }> => {
      const started = performance.now();
      const value = await work();
      return { value, ms: performance.now() - started };
    };
    /** Timers may fire up to a millisecond before their time, as measured by performance.now(). */
    const TIMER_SLACK_MS = 2;
    let costly: string;

    beforeAll(async () => {
      costly = await bcryptHash(PASSWORD, 11); // an imported user's: ten times today's test cost and more
    });

    it('holds an unknown user to the cost of an imported bcrypt user it was shown at start-up', async () => {
      const fresh = await freshHasher();
      try {
        const before = await timed(() => fresh.verifyNothing('a guess'));
        await fresh.learnCosts([costly]);
        const imported = await timed(() => fresh.verify(costly, 'a guess'));
        const unknown = await timed(() => fresh.verifyNothing('a guess'));
        expect(imported.value).toBe(false);
        expect(imported.ms).toBeGreaterThan(before.ms * 5); // the difference an attacker would measure
        expect(unknown.ms).toBeGreaterThanOrEqual(fresh.failureFloorMs() - TIMER_SLACK_MS);
        expect(unknown.ms).toBeGreaterThanOrEqual(imported.ms - 5);
      } finally {
        await fresh.onApplicationShutdown();
      }
    });

    it("holds a wrong password for today's hash, and an unreadable stored hash, to the same floor", async () => {
      const fresh = await freshHasher();
      try {
        await fresh.learnCosts([costly]);
        const today = await fresh.hash(PASSWORD);
        for (const stored of [today, '{SSHA}c2FsdGVkaGFzaA==', today.slice(0, 30)]) {
          const wrong = await timed(() => fresh.verify(stored, 'a guess'));
          expect({ stored, matches: wrong.value }).toEqual({ stored, matches: false });
          expect(wrong.ms).toBeGreaterThanOrEqual(fresh.failureFloorMs() - TIMER_SLACK_MS);
        }
      } finally {
        await fresh.onApplicationShutdown();
      }
    });

    it('learns a kind of hash from its first verification when nobody showed it one', async () => {
      const fresh = await freshHasher();
      try {
        const todaysFloor = fresh.failureFloorMs();
        const first = await timed(() => fresh.verify(costly, 'a guess'));
        const learnt = fresh.failureFloorMs();
        const unknown = await timed(() => fresh.verifyNothing('a guess'));
        // The floor is the costly hash's own run, timed in the worker: more than today's cost by far,
        // and within what the caller waited (which also holds the first job's dispatch to a new
        // worker, a few milliseconds that vary with the machine's load, so not compared further).
        expect(learnt).toBeGreaterThan(todaysFloor * 5);
        expect(learnt).toBeLessThanOrEqual(first.ms);
        expect(unknown.ms).toBeGreaterThanOrEqual(learnt - TIMER_SLACK_MS);
      } finally {
        await fresh.onApplicationShutdown();
      }
    });

    it('never holds back a right password', async () => {
      const fresh = await freshHasher();
      try {
        await fresh.learnCosts([costly]);
        const today = await fresh.hash(PASSWORD);
        const right = await timed(() => fresh.verify(today, PASSWORD));
        expect(right.value).toBe(true);
        expect(right.ms).toBeLessThan(fresh.failureFloorMs() / 2);
      } finally {
        await fresh.onApplicationShutdown();
      }
    });

    it('tells kinds of hash apart by what sets their cost only', async () => {
      const today = await hasher.hash(PASSWORD);
      expect(costProfileOf(today)).toBe('$argon2id$v=19$m=1024,t=1,p=1$');
      expect(costProfileOf(await hasher.hash('another password'))).toBe(costProfileOf(today));
      expect(costProfileOf(bcrypt)).toBe('$2$04$');
      expect(['$2a$', '$2y$'].map((prefix) => costProfileOf(prefix + bcrypt.slice(4)))).toEqual(['$2$04$', '$2$04$']);
      expect(costProfileOf(costly)).toBe('$2$11$');
      for (const unreadable of ['', PASSWORD, `$2x$${bcrypt.slice(4)}`, '$argon2id$garbage']) expect(costProfileOf(unreadable)).toBeUndefined();
    });
  });
});
