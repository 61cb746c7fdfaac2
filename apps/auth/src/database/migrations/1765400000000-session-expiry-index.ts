import { MigrationInterface, QueryRunner } from 'typeorm';

/** Sessions by expiry, for the purge of those expired longer than SESSION_RETENTION_DAYS (token/session-purge.ts). */
export class SessionExpiryIndex1765400000000 implements MigrationInterface {
  name = 'SessionExpiryIndex1765400000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`CREATE INDEX session_expires_idx ON session (expires_at)`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP INDEX session_expires_idx`);
  }
}
