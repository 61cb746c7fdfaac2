import './register-paths';
import { createTestDatabase, type TestDatabase } from './test-database';

declare global {
  var __TEST_DATABASE__: TestDatabase | undefined;
}

export default async function globalSetup(): Promise<void> {
  const database = await createTestDatabase(process.env.DATABASE_URL);
  globalThis.__TEST_DATABASE__ = database;
  process.env.TEST_DATABASE_URL = database.url;
  process.env.TEST_DATABASE_KIND = database.kind;
  process.stdout.write(`\nEnd-to-end tests on ${database.kind === 'server' ? 'PostgreSQL from DATABASE_URL (fresh database)' : 'embedded PGlite'}\n`);
}
