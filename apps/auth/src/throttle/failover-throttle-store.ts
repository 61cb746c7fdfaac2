/**
 * The throttle's store when REDIS_URL is set: Redis while it answers, PostgreSQL while it does not.
 * Redis is optional (the counts work in PostgreSQL too), so its outage must not stop logins: a
 * command that fails (refused, closed, or slower than REDIS_TIMEOUT_MS) is done again in
 * PostgreSQL, and every later one goes there directly, until Redis answers a PING again (tried
 * every REDIS_PROBE_INTERVAL_MS, a second by default); then the counts go back to Redis. One warning when it falls back, one line when
 * it returns.
 *
 * What an outage costs: the counts kept in Redis are not seen while PostgreSQL stands in (nor those
 * kept in PostgreSQL once Redis is back), so a key starts afresh at each switch: an attacker gains
 * at most one key's free attempts per switch. Within each store the limit holds as always.
 */
import { Logger, OnModuleDestroy } from '@nestjs/common';
import type { CountedKey, ReservationRule } from './throttle-policy';
import type { ThrottleStore, ThrottleStoreStatus } from './throttle-store';
import type { RedisThrottleStore } from './redis-throttle-store';
import type { PostgresThrottleStore } from './postgres-throttle-store';
import type { Cancel, Scheduler } from '../scheduler/scheduler';

export class FailoverThrottleStore implements ThrottleStore, OnModuleDestroy {
  private readonly logger = new Logger(FailoverThrottleStore.name);
  private redisUp = true;
  private stopProbing: Cancel | undefined;

  constructor(
    private readonly redis: RedisThrottleStore,
    private readonly postgres: PostgresThrottleStore,
    private readonly scheduler: Scheduler,
    private readonly probeEveryMs: number,
  ) {}

  reserve(keys: readonly CountedKey[], rule: ReservationRule): Promise<number> {
    return this.run((store) => store.reserve(keys, rule));
  }

  settle(clear: readonly string[], giveBack: readonly string[]): Promise<void> {
    return this.run((store) => store.settle(clear, giveBack));
  }

  status(): ThrottleStoreStatus {
    return this.redisUp ? { active: 'redis', redis: 'up' } : { active: 'postgres', redis: 'down' };
  }

  async onModuleDestroy(): Promise<void> {
    this.stopProbing?.();
    await this.redis.onModuleDestroy();
  }

  private async run<T>(operation: (store: ThrottleStore) => Promise<T>): Promise<T> {
    if (this.redisUp) {
      try {
        return await operation(this.redis);
      } catch (error) {
        this.fallBack(error as Error);
      }
    }
    return operation(this.postgres);
  }

  private fallBack(error: Error): void {
    if (!this.redisUp) return; // logins failing together report it once
    this.redisUp = false;
    this.logger.warn(`Redis did not answer (${error.message}): the login throttle counts in PostgreSQL until it does`);
    this.stopProbing = this.scheduler.every(this.probeEveryMs, 'probe Redis', () => this.tryRedis());
  }

  private async tryRedis(): Promise<void> {
    // Still down is what a probe expects to hear, no warning: the next probe tries again.
    if (!(await this.redis.ping().then(() => true, () => false))) return;
    this.stopProbing?.();
    this.redisUp = true;
    this.logger.log('Redis answers again: the login throttle counts in Redis');
  }
}
