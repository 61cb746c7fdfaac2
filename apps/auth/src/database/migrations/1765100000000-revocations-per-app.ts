import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The revocation log gets the app of each revocation, so that a service following it reads only
 * its own app's (by `(app_id, seq)`, a bounded index range) instead of every tenant's. Rows from
 * before are given the app of their session; a row without one (written by hand) names no app
 * and could never be read again, so it goes.
 */
export class RevocationsPerApp1765100000000 implements MigrationInterface {
  name = 'RevocationsPerApp1765100000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE revocation ADD COLUMN app_id varchar(32)`);
    await queryRunner.query(`UPDATE revocation r SET app_id = s.app_id FROM session s WHERE s.jti = r.jti`);
    await queryRunner.query(`DELETE FROM revocation WHERE app_id IS NULL`);
    await queryRunner.query(`ALTER TABLE revocation ALTER COLUMN app_id SET NOT NULL`);
    await queryRunner.query(
      `ALTER TABLE revocation ADD CONSTRAINT revocation_app_id_fkey FOREIGN KEY (app_id) REFERENCES app (id) ON DELETE CASCADE`,
    );
    await queryRunner.query(`CREATE INDEX revocation_app_seq_idx ON revocation (app_id, seq)`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP INDEX revocation_app_seq_idx`);
    await queryRunner.query(`ALTER TABLE revocation DROP COLUMN app_id`);
  }
}
