/**
 * The login throttle's counts in Redis, used when REDIS_URL is set: one hash per key, changed by
 * Lua scripts so that checking and counting all of an attempt's keys is one atomic step, timed by
 * Redis's own clock so that every instance agrees, and expiring by themselves once the reset period
 * and the longest wait have passed.
 *
 * Every command fails fast rather than wait: at once while the connection is down (no offline
 * queue, no retries), and after REDIS_TIMEOUT_MS when Redis accepts it but does not answer.
 * FailoverThrottleStore then counts in PostgreSQL; the client keeps reconnecting by itself.
 */
import { Inject, Injectable, OnModuleDestroy } from '@nestjs/common';
import Redis from 'ioredis';
import { SERVICE_CONFIG, type ServiceConfig } from '@app/config';
import type { CountedKey, ReservationRule } from './throttle-policy';
import type { ThrottleStore, ThrottleStoreStatus } from './throttle-store';

const PREFIX = 'im-auth:throttle:';

// KEYS: the counters. ARGV: reset s, the number of delays, the delays (s), then each key's free
// attempts. Returns the longest wait in ms (nothing counted), or 0 (counted on every key).
const RESERVE = `
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local reset = tonumber(ARGV[1]) * 1000
local delayCount = tonumber(ARGV[2])
local wait = 0
for _, key in ipairs(KEYS) do
  local values = redis.call('HMGET', key, 'last', 'blocked')
  if values[1] and now - tonumber(values[1]) < reset then
    wait = math.max(wait, tonumber(values[2] or '0') - now)
  end
end
if wait > 0 then return wait end
local longest = tonumber(ARGV[2 + delayCount])
for i, key in ipairs(KEYS) do
  local free = tonumber(ARGV[2 + delayCount + i])
  local values = redis.call('HMGET', key, 'last', 'failures')
  local failures = 0
  if values[1] and now - tonumber(values[1]) < reset then failures = tonumber(values[2]) end
  failures = failures + 1
  local blocked = 0
  if failures > free then
    blocked = now + tonumber(ARGV[2 + math.min(failures - free, delayCount)]) * 1000
  end
  redis.call('HSET', key, 'failures', failures, 'free', free, 'last', now, 'blocked', blocked)
  redis.call('PEXPIRE', key, reset + longest * 1000)
end
return 0`;

// KEYS: the counters to give one attempt back. A key given back below its free attempts stops waiting.
const GIVE_BACK = `
for _, key in ipairs(KEYS) do
  local values = redis.call('HMGET', key, 'failures', 'free')
  if values[1] then
    local failures = math.max(tonumber(values[1]) - 1, 0)
    redis.call('HSET', key, 'failures', failures)
    if failures <= tonumber(values[2]) then redis.call('HSET', key, 'blocked', 0) end
  end
end
return 1`;

@Injectable()
export class RedisThrottleStore implements ThrottleStore, OnModuleDestroy {
  private readonly redis: Redis;

  constructor(@Inject(SERVICE_CONFIG) config: ServiceConfig) {
    this.redis = new Redis(config.redisUrl!, {
      commandTimeout: config.redisTimeoutMs,
      connectTimeout: Math.max(1000, config.redisTimeoutMs),
      maxRetriesPerRequest: 0,
      enableOfflineQueue: false,
      // Reconnects for ever, at most every 2 s: Redis coming back is noticed without a restart.
      retryStrategy: (attempt) => Math.min(attempt * 200, 2000),
    });
    this.redis.on('error', () => undefined); // reported through the failing commands
  }

  /** Resolves when Redis answers a PING within REDIS_TIMEOUT_MS. */
  async ping(): Promise<void> {
    await this.redis.ping();
  }

  status(): ThrottleStoreStatus {
    return { active: 'redis', redis: 'up' };
  }

  async reserve(keys: readonly CountedKey[], rule: ReservationRule): Promise<number> {
    const waitMs = (await this.redis.eval(
      RESERVE,
      keys.length,
      ...keys.map((key) => PREFIX + key.key),
      rule.resetSeconds,
      rule.delays.length,
      ...rule.delays,
      ...keys.map((key) => key.freeFailures),
    )) as number;
    return waitMs / 1000;
  }

  async settle(clear: readonly string[], giveBack: readonly string[]): Promise<void> {
    await Promise.all([
      clear.length > 0 ? this.redis.del(...clear.map((key) => PREFIX + key)) : undefined,
      giveBack.length > 0 ? this.redis.eval(GIVE_BACK, giveBack.length, ...giveBack.map((key) => PREFIX + key)) : undefined,
    ]);
  }

  async onModuleDestroy(): Promise<void> {
    await this.redis.quit().catch(() => undefined);
  }
}
