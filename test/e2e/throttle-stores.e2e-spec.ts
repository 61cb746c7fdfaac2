/**
 * The throttle's stores under parallel reservations, on the run's database (PostgreSQL, or the
 * embedded PGlite) and on Redis: of 64 reservations of one key sent at once, exactly the free
 * attempts and one more are counted; the others are refused with the wait, and count nothing. The
 * first wait here is an hour, so no wait can end during the test and the count is exact.
 */
import { randomUUID } from 'node:crypto';
import { TestService } from '../support/test-service';
import { PostgresThrottleStore } from '../../apps/auth/src/throttle/postgres-throttle-store';
import { RedisThrottleStore } from '../../apps/auth/src/throttle/redis-throttle-store';
import type { ThrottleStore } from '../../apps/auth/src/throttle/throttle-store';
import type { ReservationRule } from '../../apps/auth/src/throttle/throttle-policy';

const RULE: ReservationRule = { delays: [3600], resetSeconds: 3600 };
const FREE = 3;

describe('the throttle stores under parallel reservations', () => {
  let service: TestService;
  let redis: RedisThrottleStore;
  const stores: Record<string, () => ThrottleStore> = {
    'the database': () => service.nest.get(PostgresThrottleStore),
    Redis: () => redis,
  };

  beforeAll(async () => {
    service = await TestService.start();
    redis = new RedisThrottleStore({ ...service.config, redisUrl: process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379' });
  });
  afterAll(async () => {
    await redis.onModuleDestroy();
    await service.close();
  });

  it.each(Object.keys(stores))('counts exactly the free attempts and one more of 64 sent at once, in %s', async (name) => {
    const store = stores[name]();
    const keys = [
      { key: `test:${randomUUID()}`, freeFailures: FREE },
      { key: `test:${randomUUID()}`, freeFailures: 1000 },
    ];
    const waits = await Promise.all(Array.from({ length: 64 }, () => store.reserve(keys, RULE)));
    expect(waits.filter((wait) => wait === 0)).toHaveLength(FREE + 1);
    for (const wait of waits.filter((wait) => wait > 0)) expect(wait).toBeGreaterThan(3500);

    // The refused ones counted nothing on the other key: it gives back exactly what was counted.
    for (let i = 0; i <= FREE; i++) await store.settle([], [keys[1].key]);
    const wide = [{ key: keys[1].key, freeFailures: FREE }];
    const again = await Promise.all(Array.from({ length: 16 }, () => store.reserve(wide, RULE)));
    expect(again.filter((wait) => wait === 0)).toHaveLength(FREE + 1);
  });

  it.each(Object.keys(stores))('gives a cleared key its attempts back and lifts its wait, in %s', async (name) => {
    const store = stores[name]();
    const key = [{ key: `test:${randomUUID()}`, freeFailures: FREE }];
    for (let i = 0; i <= FREE; i++) expect(await store.reserve(key, RULE)).toBe(0);
    expect(await store.reserve(key, RULE)).toBeGreaterThan(3500);
    await store.settle([key[0].key], []);
    expect(await store.reserve(key, RULE)).toBe(0);
  });
});
