/**
 * The database the end-to-end tests run on, made once per `jest` run by global-setup:
 * with DATABASE_URL, a fresh database on that server (dropped afterwards); without it, an
 * embedded PGlite in a temporary directory. Either way it is migrated before any test starts,
 * and workers find its URL in TEST_DATABASE_URL.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { openEmbeddedPostgres } from '../../libs/persistence/src/embedded-postgres';
import { runMigrations } from '../../apps/auth/src/database/migrate';

export interface TestDatabase {
  url: string;
  kind: 'server' | 'embedded';
  dispose(): Promise<void>;
}

export async function createTestDatabase(serverUrl: string | undefined): Promise<TestDatabase> {
  const database = serverUrl ? await freshDatabaseOn(serverUrl) : await embeddedDatabase();
  await runMigrations(database.url);
  return database;
}

async function freshDatabaseOn(serverUrl: string): Promise<TestDatabase> {
  const name = `im_auth_test_${process.pid}_${Date.now()}`;
  const admin = new Client({ connectionString: serverUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    kind: 'server',
    async dispose() {
      const client = new Client({ connectionString: serverUrl });
      await client.connect();
      await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await client.end();
    },
  };
}

async function embeddedDatabase(): Promise<TestDatabase> {
  const dir = mkdtempSync(join(tmpdir(), 'im-auth-test-db-'));
  const embedded = await openEmbeddedPostgres(dir);
  return {
    url: embedded.url,
    kind: 'embedded',
    async dispose() {
      await embedded.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
