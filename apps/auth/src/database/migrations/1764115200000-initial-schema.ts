import { MigrationInterface, QueryRunner } from 'typeorm';

/** Apps, users, devices, sessions, signing keys and admin tokens: the token service's first schema. */
export class InitialSchema1764115200000 implements MigrationInterface {
  name = 'InitialSchema1764115200000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE app (
        id varchar(32) PRIMARY KEY,
        name text NOT NULL,
        status smallint NOT NULL DEFAULT 0,
        token_ttl_seconds integer NOT NULL DEFAULT 604800 CHECK (token_ttl_seconds > 0),
        error_http_status varchar(16) CHECK (error_http_status IN ('mirror', 'always-200')),
        open_registration boolean NOT NULL DEFAULT false,
        password_min_length integer NOT NULL DEFAULT 8 CHECK (password_min_length >= 1),
        default_region varchar(2),
        reserved_username_prefixes text[] NOT NULL DEFAULT '{}',
        encrypt_type smallint NOT NULL DEFAULT 0 CHECK (encrypt_type IN (0, 1)),
        public_key text NOT NULL,
        private_key_sealed text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
    await queryRunner.query(`
      CREATE TABLE app_user (
        id bigint PRIMARY KEY CHECK (id > 0 AND id < 9007199254740992),
        app_id varchar(32) NOT NULL REFERENCES app (id) ON DELETE CASCADE,
        username varchar(64),
        username_key varchar(64),
        mobile varchar(16),
        email varchar(254),
        password_hash text NOT NULL,
        status smallint NOT NULL DEFAULT 0,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT user_has_identifier CHECK (username_key IS NOT NULL OR mobile IS NOT NULL OR email IS NOT NULL),
        CONSTRAINT user_username_unique UNIQUE (app_id, username_key),
        CONSTRAINT user_mobile_unique UNIQUE (app_id, mobile),
        CONSTRAINT user_email_unique UNIQUE (app_id, email)
      )`);
    await queryRunner.query(`
      CREATE TABLE device (
        id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        app_id varchar(32) NOT NULL REFERENCES app (id) ON DELETE CASCADE,
        user_id bigint NOT NULL REFERENCES app_user (id) ON DELETE CASCADE,
        device_guid varchar(128) NOT NULL,
        device_sn integer NOT NULL,
        platform smallint NOT NULL DEFAULT 0,
        user_agent varchar(512),
        push_token varchar(64) NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        last_login_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT device_guid_unique UNIQUE (app_id, user_id, device_guid),
        CONSTRAINT device_sn_unique UNIQUE (user_id, device_sn),
        CONSTRAINT device_push_token_unique UNIQUE (push_token)
      )`);
    await queryRunner.query(`
      CREATE TABLE session (
        jti uuid PRIMARY KEY,
        app_id varchar(32) NOT NULL REFERENCES app (id) ON DELETE CASCADE,
        user_id bigint NOT NULL REFERENCES app_user (id) ON DELETE CASCADE,
        device_id bigint REFERENCES device (id) ON DELETE SET NULL,
        issued_at timestamptz NOT NULL,
        expires_at timestamptz NOT NULL,
        revoked_at timestamptz
      )`);
    await queryRunner.query(`CREATE INDEX session_user_idx ON session (user_id, expires_at)`);
    await queryRunner.query(`CREATE INDEX session_device_idx ON session (device_id) WHERE device_id IS NOT NULL`);
    await queryRunner.query(`
      CREATE TABLE signing_key (
        kid varchar(32) PRIMARY KEY,
        algorithm varchar(10) NOT NULL,
        public_key text NOT NULL,
        private_key_sealed text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        retired_at timestamptz
      )`);
    await queryRunner.query(`CREATE UNIQUE INDEX signing_key_one_active ON signing_key ((true)) WHERE retired_at IS NULL`);
    await queryRunner.query(`
      CREATE TABLE admin_token (
        id uuid PRIMARY KEY,
        app_id varchar(32) NOT NULL REFERENCES app (id) ON DELETE CASCADE,
        token_hash char(64) NOT NULL CONSTRAINT admin_token_hash_unique UNIQUE,
        label text,
        created_at timestamptz NOT NULL DEFAULT now(),
        revoked_at timestamptz
      )`);
    await queryRunner.query(`CREATE INDEX admin_token_app_idx ON admin_token (app_id)`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    for (const table of ['admin_token', 'signing_key', 'session', 'device', 'app_user', 'app']) {
      await queryRunner.query(`DROP TABLE ${table}`);
    }
  }
}
