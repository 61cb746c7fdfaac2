import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Two things a login needs to stay true under concurrency:
 *
 * - `app_user.security_stamp`: a counter that every change to a user's standing moves (a password
 *   set or changed, a ban, signing out of every device). A login reads it before hashing and writes
 *   its session only while it is unchanged (token/login-recorder.ts), so a login in flight cannot
 *   outlive what happened meanwhile.
 * - `login_throttle_reserve()`: the throttle's reservation, atomic over all of a login's keys. An
 *   attempt counts when it starts (a success gives it back), so guesses sent in parallel cannot all
 *   pass a check before the first failure is recorded. It needs a function: a single statement
 *   cannot read the rows its own INSERT creates, and the keys must be checked together before any
 *   is counted (a refused attempt counts on none). Keys are locked in sorted order, so concurrent
 *   reservations never deadlock. The waits themselves come from throttle/throttle-policy.ts.
 */
export class LoginReservations1765000000000 implements MigrationInterface {
  name = 'LoginReservations1765000000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE app_user ADD COLUMN security_stamp integer NOT NULL DEFAULT 0`);
    await queryRunner.query(`
      CREATE FUNCTION login_throttle_reserve(p_keys text[], p_free integer[], p_delays float8[], p_reset_seconds float8)
      RETURNS float8 LANGUAGE plpgsql AS $$
      DECLARE
        wait float8;
      BEGIN
        INSERT INTO login_throttle (key, free_failures, failures, last_failure_at, blocked_until)
          SELECT k.key, k.free, 0, now(), NULL FROM unnest(p_keys, p_free) AS k(key, free) ORDER BY k.key
          ON CONFLICT (key) DO NOTHING;
        -- Locked in one statement of its own: a filter next to FOR UPDATE would lock only the
        -- rows it keeps, and two reservations would then count the same attempt twice.
        PERFORM 1 FROM login_throttle WHERE key = ANY(p_keys) ORDER BY key FOR UPDATE;
        SELECT COALESCE(MAX(EXTRACT(EPOCH FROM (t.blocked_until - now()))), 0) INTO wait
          FROM login_throttle t
         WHERE t.key = ANY(p_keys)
           AND t.last_failure_at > now() - make_interval(secs => p_reset_seconds)
           AND t.blocked_until > now();
        IF wait > 0 THEN
          RETURN wait;
        END IF;
        UPDATE login_throttle t SET
            free_failures = c.free,
            failures = c.failures,
            last_failure_at = now(),
            blocked_until = CASE WHEN c.failures > c.free
              THEN now() + make_interval(secs => p_delays[LEAST(c.failures - c.free, cardinality(p_delays))]) END
          FROM (SELECT k.key, k.free,
                       CASE WHEN t2.last_failure_at <= now() - make_interval(secs => p_reset_seconds) THEN 1 ELSE t2.failures + 1 END AS failures
                  FROM unnest(p_keys, p_free) AS k(key, free) JOIN login_throttle t2 ON t2.key = k.key) AS c
         WHERE t.key = c.key;
        RETURN 0;
      END
      $$`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP FUNCTION login_throttle_reserve(text[], integer[], float8[], float8)`);
    await queryRunner.query(`ALTER TABLE app_user DROP COLUMN security_stamp`);
  }
}
