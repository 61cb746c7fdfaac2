import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The group directory (groups live in the group service, which syncs their members and roles
 * here) and the audit trail of impersonated calls; revocations get a log that other services poll.
 */
export class GroupsAndAudit1764288000000 implements MigrationInterface {
  name = 'GroupsAndAudit1764288000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE app_group (
        app_id varchar(32) NOT NULL REFERENCES app (id) ON DELETE CASCADE,
        group_id bigint NOT NULL CHECK (group_id > 0),
        synced_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (app_id, group_id)
      )`);
    await queryRunner.query(`
      CREATE TABLE group_member (
        app_id varchar(32) NOT NULL,
        group_id bigint NOT NULL,
        user_id bigint NOT NULL REFERENCES app_user (id) ON DELETE CASCADE,
        role smallint NOT NULL CHECK (role IN (0, 1, 2)),
        PRIMARY KEY (app_id, group_id, user_id),
        CONSTRAINT group_member_group_fkey FOREIGN KEY (app_id, group_id) REFERENCES app_group (app_id, group_id) ON DELETE CASCADE
      )`);
    await queryRunner.query(`CREATE INDEX group_member_user_idx ON group_member (app_id, user_id)`);
    await queryRunner.query(`
      CREATE TABLE impersonation_audit (
        id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        app_id varchar(32) NOT NULL REFERENCES app (id) ON DELETE CASCADE,
        caller_kind varchar(8) NOT NULL CHECK (caller_kind IN ('admin', 'user')),
        caller_id varchar(64) NOT NULL,
        acting_user_id bigint,
        acting_group_id bigint,
        method varchar(8) NOT NULL,
        path varchar(256) NOT NULL,
        client_ip varchar(64),
        at timestamptz NOT NULL DEFAULT now()
      )`);
    await queryRunner.query(`CREATE INDEX impersonation_audit_acting_user_idx ON impersonation_audit (app_id, acting_user_id, at)`);
    await queryRunner.query(`
      CREATE TABLE revocation (
        seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        jti uuid NOT NULL,
        expires_at timestamptz NOT NULL,
        revoked_at timestamptz NOT NULL DEFAULT now()
      )`);
    await queryRunner.query(`CREATE INDEX revocation_expires_idx ON revocation (expires_at)`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    for (const table of ['revocation', 'impersonation_audit', 'group_member', 'app_group']) {
      await queryRunner.query(`DROP TABLE ${table}`);
    }
  }
}
