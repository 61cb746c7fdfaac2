/**
 * `npm run cli -- <command>`: provisioning for operators (apps, users, admin tokens). Works on
 * DATABASE_URL, or on the embedded database: through the running service's socket when
 * `npm start` is up, else by opening it directly. Prints one JSON value as its last line.
 */
import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { ApiError } from '@app/contract';
import { ConfigError, loadServiceConfig } from '@app/config';
import { locateDatabase, type DatabaseLocation } from '@app/persistence';
import { CliModule } from './cli.module';
import { COMMANDS, USAGE, UsageError } from './commands';
import { runMigrations } from '../database/migrate';

async function main(argv: string[]): Promise<number> {
  const [group, action, ...args] = argv;
  const command = COMMANDS[`${group} ${action}`];
  if (!command) {
    process.stderr.write(`${USAGE}\n`);
    return group === undefined || group === '--help' || group === 'help' ? 0 : 2;
  }

  const config = loadServiceConfig();
  let database: DatabaseLocation | undefined;
  try {
    database = await locateDatabase(config);
    await runMigrations(database.url);
    const context = await NestFactory.createApplicationContext(CliModule.forRoot(config, database.url), {
      logger: ['error', 'warn'],
    });
    try {
      const result = await command(context, args, readStdin);
      process.stdout.write(`${JSON.stringify(result)}\n`);
      return 0;
    } finally {
      await context.close();
    }
  } finally {
    await database?.release();
  }
}

function readStdin(): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = '';
    process.stdin.setEncoding('utf8');
    process.stdin.on('data', (chunk) => (text += chunk));
    process.stdin.on('end', () => resolve(text));
    process.stdin.on('error', reject);
  });
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    if (error instanceof UsageError || error instanceof ApiError || error instanceof ConfigError) {
      process.stderr.write(`error: ${error.message}\n`);
      process.exit(2);
    }
    process.stderr.write(`error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(1);
  },
);
