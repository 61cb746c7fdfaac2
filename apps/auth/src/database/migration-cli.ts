/**
 * `npm run migration:run | migration:revert | migration:show | migration:generate -- NAME`,
 * on DATABASE_URL or the embedded database (joining a running `npm start`).
 * `generate` diffs the entities against the database and writes a migration file next to the
 * others; add its class to MIGRATIONS in data-source-options.ts and review it like code.
 */
import 'reflect-metadata';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadServiceConfig } from '@app/config';
import { locateDatabase } from '@app/persistence';
import { runMigrations, withMigrationDataSource } from './migrate';

async function main(action: string | undefined, name: string | undefined): Promise<void> {
  const config = loadServiceConfig();
  const database = await locateDatabase(config);
  try {
    switch (action) {
      case 'run': {
        const applied = await runMigrations(database.url);
        console.log(applied.length ? `Applied: ${applied.join(', ')}` : 'No pending migrations');
        return;
      }
      case 'revert':
        await withMigrationDataSource(database.url, (dataSource) => dataSource.undoLastMigration({ transaction: 'each' }));
        console.log('Reverted the last migration');
        return;
      case 'show':
        await withMigrationDataSource(database.url, async (dataSource) => {
          const pending = await dataSource.showMigrations();
          console.log(pending ? 'There are pending migrations' : 'The database is up to date');
        });
        return;
      case 'generate': {
        if (!name || !/^[A-Za-z][A-Za-z0-9]*$/.test(name)) throw new Error('generate needs a name in CamelCase, e.g. AddDeviceLabel');
        await runMigrations(database.url);
        const sql = await withMigrationDataSource(database.url, (dataSource) => dataSource.driver.createSchemaBuilder().log());
        if (sql.upQueries.length === 0) {
          console.log('The entities match the database: nothing to generate');
          return;
        }
        const timestamp = Date.now();
        const file = join(__dirname, 'migrations', `${timestamp}-${kebab(name)}.ts`);
        writeFileSync(file, migrationSource(`${name}${timestamp}`, sql.upQueries.map((q) => q.query), sql.downQueries.reverse().map((q) => q.query)));
        console.log(`Wrote ${file}: review it, then add ${name}${timestamp} to MIGRATIONS`);
        return;
      }
      default:
        throw new Error('Usage: migration-cli run | revert | show | generate NAME');
    }
  } finally {
    await database.release();
  }
}

function kebab(name: string): string {
  return name.replace(/([a-z0-9])([A-Z])/g, '$1-$2').toLowerCase();
}

function migrationSource(className: string, up: string[], down: string[]): string {
  const lines = (queries: string[]) => queries.map((q) => `    await queryRunner.query(${JSON.stringify(q)});`).join('\n');
  return `import { MigrationInterface, QueryRunner } from 'typeorm';

export class ${className} implements MigrationInterface {
  name = '${className}';

  async up(queryRunner: QueryRunner): Promise<void> {
${lines(up)}
  }

  async down(queryRunner: QueryRunner): Promise<void> {
${lines(down)}
  }
}
`;
}

main(process.argv[2], process.argv[3]).then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error instanceof Error ? error.message : String(error));
    process.exit(1);
  },
);
