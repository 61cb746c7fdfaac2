/**
 * Running migrations: at every start of the service, and from `npm run migration:run`. A
 * PostgreSQL advisory lock makes instances that start together run them one at a time.
 */
import { DataSource } from 'typeorm';
import { dataSourceOptions } from './data-source-options';

const MIGRATION_LOCK = 7_363_201;

export async function withMigrationDataSource<T>(url: string, work: (dataSource: DataSource) => Promise<T>): Promise<T> {
  // One connection: the advisory lock and the migrations must share it.
  const dataSource = new DataSource(dataSourceOptions(url, { poolSize: 1, timeoutMs: 120_000 }));
  await dataSource.initialize();
  try {
    await dataSource.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK]);
    try {
      return await work(dataSource);
    } finally {
      await dataSource.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK]);
    }
  } finally {
    await dataSource.destroy();
  }
}

/** Applies pending migrations; returns the names of those it applied. */
export function runMigrations(url: string): Promise<string[]> {
  return withMigrationDataSource(url, async (dataSource) => {
    const applied = await dataSource.runMigrations({ transaction: 'each' });
    return applied.map((migration) => migration.name);
  });
}
