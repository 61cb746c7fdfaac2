import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Admin tokens get a scope: `admin` (every admin route, as before) or `verifier`, which only reads
 * the revocation log and introspects tokens: what a service verifying tokens holds, instead of
 * the power to register, ban and impersonate users.
 */
export class VerifierTokens1765100100000 implements MigrationInterface {
  name = 'VerifierTokens1765100100000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `ALTER TABLE admin_token ADD COLUMN scope varchar(16) NOT NULL DEFAULT 'admin' CONSTRAINT admin_token_scope_check CHECK (scope IN ('admin', 'verifier'))`,
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE admin_token DROP COLUMN scope`);
  }
}
