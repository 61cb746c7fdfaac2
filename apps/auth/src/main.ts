/**
 * `npm start`: validate the configuration, find the database (DATABASE_URL, or the embedded
 * PostgreSQL under DATA_DIR), migrate it, serve HTTP, and stop gracefully on SIGTERM/SIGINT:
 * stop accepting, let in-flight requests finish (bounded), close the pool, exit 0.
 * The logger comes right after the configuration, so every line after that is in its format.
 */
import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import type { Server } from 'node:http';
import { ConfigError, loadServiceConfig } from '@app/config';
import { locateDatabase } from '@app/persistence';
import { runMigrations } from './database/migrate';
import { createHttpApp } from './http/http-app';
import { AppLogger, createAppLog } from './logging/app-logger';
import { stdoutLogOutput } from './logging/log-output';

const SHUTDOWN_GRACE_MS = 10_000;
/** How long the last log lines may take to reach a reader before the process exits without them. */
const LOG_FLUSH_MS = 1_000;

async function main(): Promise<void> {
  const config = loadServiceConfig();
  const log = createAppLog(config);
  Logger.overrideLogger(new AppLogger(log));
  const logger = new Logger('Main');
  const database = await locateDatabase(config);
  if (database.kind === 'embedded') logger.log(`Embedded PostgreSQL with its data in ${config.dataDir}`);

  const applied = await runMigrations(database.url);
  if (applied.length > 0) logger.log(`Applied migrations: ${applied.join(', ')}`);

  const app = await createHttpApp(config, database.url, log);
  await app.listen(config.port, config.host);
  logger.log(`Listening on http://localhost:${config.port} (Swagger UI at /docs)`);

  let stopping = false;
  const stop = async (signal: string): Promise<void> => {
    if (stopping) return;
    stopping = true;
    logger.log(`${signal}: finishing in-flight requests`);
    const server = app.getHttpServer() as Server;
    const drained = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeIdleConnections();
    const forced = setTimeout(() => server.closeAllConnections(), SHUTDOWN_GRACE_MS);
    await drained;
    clearTimeout(forced);
    await app.close();
    await database.release();
    logger.log('Stopped');
    await stdoutLogOutput().flush(LOG_FLUSH_MS);
    process.exit(0);
  };
  process.once('SIGTERM', () => void stop('SIGTERM'));
  process.once('SIGINT', () => void stop('SIGINT'));
}

main().catch(async (error: unknown) => {
  if (error instanceof ConfigError) {
    process.stderr.write(`${error.message}\n`);
  } else {
    new Logger('Main').error('Could not start', error instanceof Error ? error.stack : String(error));
    await stdoutLogOutput().flush(LOG_FLUSH_MS);
  }
  process.exit(1);
});
