import { MigrationInterface, QueryRunner } from 'typeorm';

/** A signing key can be revoked (a leaked key): from then on it neither signs nor verifies, nor is published. */
export class SigningKeyRevocation1765100200000 implements MigrationInterface {
  name = 'SigningKeyRevocation1765100200000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE signing_key ADD COLUMN revoked_at timestamptz`);
    // A revoked key is retired too: the one-active index keeps meaning "the key that signs".
    await queryRunner.query(
      `ALTER TABLE signing_key ADD CONSTRAINT signing_key_revoked_is_retired CHECK (revoked_at IS NULL OR retired_at IS NOT NULL)`,
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE signing_key DROP COLUMN revoked_at`);
  }
}
