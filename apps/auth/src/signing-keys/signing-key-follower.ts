/**
 * Keeps this instance signing and verifying with the keys of the moment: a rotation or a key
 * revocation made elsewhere reaches it within a second or two. On a PostgreSQL server a connection
 * of its own LISTENs on KEY_CHANGES_CHANNEL (rotate() and revoke() NOTIFY on commit), re-opened
 * after RECONNECT_MS when lost; the keys are also re-read every SIGNING_KEYS_REFRESH_INTERVAL_MS,
 * for a notification missed (behind PgBouncer in transaction mode, all there is). PGlite hands a
 * NOTIFY to its sender only (tried), and has one instance: it re-reads every EMBEDDED_REFRESH_MS.
 * The service's only (the CLI follows nothing): provided by the TokenModule.
 */
import { Inject, Injectable, Logger, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { Client } from 'pg';
import { DataSource } from 'typeorm';
import { SERVICE_CONFIG, type ServiceConfig } from '@app/config';
import { KEY_CHANGES_CHANNEL, SigningKeysService } from './signing-keys.service';
import { Scheduler } from '../scheduler/scheduler';

const RECONNECT_MS = 5_000;
const EMBEDDED_REFRESH_MS = 1_000;

@Injectable()
export class SigningKeyFollower implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(SigningKeyFollower.name);
  private listener: Client | undefined;
  private stopped = false;

  constructor(
    private readonly keys: SigningKeysService,
    private readonly scheduler: Scheduler,
    @InjectDataSource() private readonly dataSource: DataSource,
    @Inject(SERVICE_CONFIG) private readonly config: ServiceConfig,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    const [{ version }]: Array<{ version: string }> = await this.dataSource.query('SELECT version()');
    const embedded = version.includes('PGlite');
    const everyMs = embedded ? EMBEDDED_REFRESH_MS : this.config.intervals.signingKeysRefreshMs;
    this.scheduler.every(everyMs, 'refresh the signing keys', () => this.keys.refresh());
    if (!embedded) await this.listen();
  }

  async onModuleDestroy(): Promise<void> {
    this.stopped = true;
    await this.listener?.end().catch(() => undefined);
  }

  /** Opens the listening connection; on failure, or when it is lost later, tries again after RECONNECT_MS. */
  private async listen(): Promise<void> {
    const { url } = this.dataSource.options as { url?: string };
    const client = new Client({ connectionString: url, application_name: 'im-auth-key-changes' });
    // Attached before connecting: a pg Client without an 'error' listener takes the process down.
    client.on('error', (error: Error) => this.lost(client, error));
    client.on('end', () => this.lost(client));
    client.on('notification', () => this.refresh());
    this.listener = client;
    try {
      await client.connect();
      await client.query(`LISTEN ${KEY_CHANGES_CHANNEL}`);
    } catch (error) {
      this.lost(client, error as Error);
      return;
    }
    // Anything changed while nobody was listening (before the first connection, this reads what onModuleInit read).
    this.refresh();
  }

  private lost(client: Client, error?: Error): void {
    if (this.stopped || this.listener !== client) return;
    this.listener = undefined;
    void client.end().catch(() => undefined);
    this.logger.warn(`Not listening for signing key changes${error ? ` (${error.message})` : ''}; trying again in ${RECONNECT_MS / 1000} s`);
    this.scheduler.after(RECONNECT_MS, 'listen for signing key changes', () => this.listen());
  }

  private refresh(): void {
    this.keys.refresh().catch((error: Error) => this.logger.warn(`Could not refresh the signing keys: ${error.message}`));
  }
}
