/**
 * Builds the HTTP application the same way for `npm start`, the end-to-end tests and the
 * benchmark, so what is tested is what runs.
 */
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import type { LogLevel } from '@nestjs/common';
import type { ServiceConfig } from '@app/config';
import { AuthModule } from '../auth.module';
import { setUpApiDocs } from './api-docs';

const LEVELS: LogLevel[] = ['fatal', 'error', 'warn', 'log', 'debug', 'verbose'];

export async function createHttpApp(config: ServiceConfig, databaseUrl: string): Promise<NestExpressApplication> {
  const app = await NestFactory.create<NestExpressApplication>(AuthModule.forRoot({ config, databaseUrl }), {
    bodyParser: false,
    logger: LEVELS.slice(0, LEVELS.indexOf(config.logLevel) + 1),
  });
  app.disable('x-powered-by');
  app.set('trust proxy', false);
  setUpApiDocs(app);
  return app;
}
