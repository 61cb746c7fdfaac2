// Jest's moduleNameMapper does not apply to global setup, which runs outside the test sandbox:
// resolve the @app/* aliases from tsconfig.json here instead.
import { register } from 'tsconfig-paths';
import { join } from 'node:path';
register({
  baseUrl: join(__dirname, '..', '..'),
  paths: {
    '@app/config': ['libs/config/src'],
    '@app/contract': ['libs/contract/src'],
    '@app/persistence': ['libs/persistence/src'],
  },
});
import type { TestDatabase } from './test-database';

declare global {
  var __TEST_DATABASE__: TestDatabase | undefined;
}

export default async function globalSetup(): Promise<void> {
  const { createTestDatabase } = await import('./test-database');
  const database = await createTestDatabase(process.env.DATABASE_URL);
  globalThis.__TEST_DATABASE__ = database;
  process.env.TEST_DATABASE_URL = database.url;
  process.env.TEST_DATABASE_KIND = database.kind;
  process.stdout.write(`\nEnd-to-end tests on ${database.kind === 'server' ? 'PostgreSQL from DATABASE_URL (fresh database)' : 'embedded PGlite'}\n`);
}
