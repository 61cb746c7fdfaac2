/**
 * The login throttle's counters in Redis, used when REDIS_URL is set: one hash per key, updated
 * by a Lua script so the count and the wait change atomically, timed by Redis's own clock so that
 * every instance agrees, and expiring by themselves once the reset period and the longest wait
 * have passed.
 */
import { Inject, Injectable, OnModuleDestroy } from '@nestjs/common';
import Redis from 'ioredis';
import { SERVICE_CONFIG, type ServiceConfig } from '@app/config';
import type { ThrottleSettings } from './throttle-policy';
import type { CountedKey, ThrottleState, ThrottleStore } from './throttle-store';

const PREFIX = 'im-auth:throttle:';

// KEYS: the counters. ARGV: max delay s, reset s, then each key's free failures.
// Same rule as the PostgreSQL store and throttle-policy.ts delayAfter().
const RECORD_FAILURE = `
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local maxDelay = tonumber(ARGV[1])
local reset = tonumber(ARGV[2])
for i, key in ipairs(KEYS) do
  local free = tonumber(ARGV[2 + i])
  local last = tonumber(redis.call('HGET', key, 'last') or '0')
  local failures = tonumber(redis.call('HGET', key, 'failures') or '0')
  if now - last > reset * 1000 then failures = 0 end
  failures = failures + 1
  local blocked = 0
  if failures > free then
    blocked = now + math.min(maxDelay, 2 ^ math.min(failures - free - 1, 30)) * 1000
  end
  redis.call('HSET', key, 'failures', failures, 'last', now, 'blocked', blocked)
  redis.call('PEXPIRE', key, (reset + maxDelay) * 1000)
end
return 1`;

// KEYS: the counters. ARGV: reset s. Returns, per key, the wait in ms (-1: no live counter).
const CHECK = `
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local reset = tonumber(ARGV[1])
local result = {}
for i, key in ipairs(KEYS) do
  local values = redis.call('HMGET', key, 'last', 'blocked')
  if values[1] and now - tonumber(values[1]) <= reset * 1000 then
    result[i] = math.max(0, tonumber(values[2] or '0') - now)
  else
    result[i] = -1
  end
end
return result`;

@Injectable()
export class RedisThrottleStore implements ThrottleStore, OnModuleDestroy {
  private readonly redis: Redis;

  constructor(@Inject(SERVICE_CONFIG) config: ServiceConfig) {
    // Fail fast while Redis is down instead of queueing logins behind a reconnect.
    this.redis = new Redis(config.redisUrl!, { maxRetriesPerRequest: 1, enableOfflineQueue: false, lazyConnect: false });
    this.redis.on('error', () => undefined); // reported through the failing commands
  }

  async check(keys: string[], settings: ThrottleSettings): Promise<ThrottleState> {
    const waits = (await this.redis.eval(CHECK, keys.length, ...keys.map((key) => PREFIX + key), settings.failureResetSeconds)) as number[];
    return {
      waitSeconds: Math.max(0, ...waits) / 1000,
      counted: new Set(keys.filter((_, i) => waits[i] >= 0)),
    };
  }

  async recordFailure(keys: CountedKey[], settings: ThrottleSettings): Promise<void> {
    await this.redis.eval(
      RECORD_FAILURE,
      keys.length,
      ...keys.map((key) => PREFIX + key.key),
      settings.maxDelaySeconds,
      settings.failureResetSeconds,
      ...keys.map((key) => key.freeFailures),
    );
  }

  async reset(key: string): Promise<void> {
    await this.redis.del(PREFIX + key);
  }

  async onModuleDestroy(): Promise<void> {
    await this.redis.quit().catch(() => undefined);
  }
}
