import { MigrationInterface, QueryRunner } from 'typeorm';

/** Failed-login counters and each app's throttle settings (see throttle/throttle-policy.ts). */
export class LoginThrottle1764201600000 implements MigrationInterface {
  name = 'LoginThrottle1764201600000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE login_throttle (
        key varchar(400) PRIMARY KEY,
        free_failures integer NOT NULL,
        failures integer NOT NULL,
        last_failure_at timestamptz NOT NULL,
        blocked_until timestamptz
      )`);
    await queryRunner.query(`CREATE INDEX login_throttle_last_failure_idx ON login_throttle (last_failure_at)`);
    await queryRunner.query(`
      ALTER TABLE app
        ADD COLUMN login_free_failures integer NOT NULL DEFAULT 5 CONSTRAINT app_login_free_failures_check CHECK (login_free_failures >= 1),
        ADD COLUMN login_ip_free_failures integer NOT NULL DEFAULT 50 CONSTRAINT app_login_ip_free_failures_check CHECK (login_ip_free_failures >= 1),
        ADD COLUMN login_max_delay_seconds integer NOT NULL DEFAULT 900 CONSTRAINT app_login_max_delay_seconds_check CHECK (login_max_delay_seconds >= 1),
        ADD COLUMN login_failure_reset_seconds integer NOT NULL DEFAULT 3600 CONSTRAINT app_login_failure_reset_seconds_check CHECK (login_failure_reset_seconds >= 60)`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      ALTER TABLE app
        DROP COLUMN login_free_failures,
        DROP COLUMN login_ip_free_failures,
        DROP COLUMN login_max_delay_seconds,
        DROP COLUMN login_failure_reset_seconds`);
    await queryRunner.query(`DROP TABLE login_throttle`);
  }
}
