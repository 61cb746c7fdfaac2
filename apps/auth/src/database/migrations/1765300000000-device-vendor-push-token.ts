import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * A device's vendor push token (APNs, FCM, a phone maker's), bound by the app through
 * `POST /user/token/bind`: all three columns set or none, and one token on one device per app.
 */
export class DeviceVendorPushToken1765300000000 implements MigrationInterface {
  name = 'DeviceVendorPushToken1765300000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      ALTER TABLE device
        ADD COLUMN vendor_push_token varchar(512),
        ADD COLUMN vendor_push_notifier varchar(128),
        ADD COLUMN vendor_push_bound_at timestamptz,
        ADD CONSTRAINT device_vendor_push_check CHECK (
          (vendor_push_token IS NULL) = (vendor_push_notifier IS NULL) AND (vendor_push_token IS NULL) = (vendor_push_bound_at IS NULL)
        )`);
    await queryRunner.query(
      `CREATE UNIQUE INDEX device_vendor_push_token_unique ON device (app_id, vendor_push_token) WHERE vendor_push_token IS NOT NULL`,
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP INDEX device_vendor_push_token_unique`);
    await queryRunner.query(`
      ALTER TABLE device
        DROP CONSTRAINT device_vendor_push_check,
        DROP COLUMN vendor_push_token,
        DROP COLUMN vendor_push_notifier,
        DROP COLUMN vendor_push_bound_at`);
  }
}
