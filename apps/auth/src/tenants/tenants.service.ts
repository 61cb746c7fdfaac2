/**
 * Apps (tenants): creation with their key pair, and a short-lived, bounded in-process cache of the
 * apps that exist (app-cache.ts), since every request reads its app. Changes made through this
 * process invalidate the entry at once; changes made elsewhere (the CLI, another instance) are seen
 * within APP_CACHE_TTL_MS. An unknown app_id is never cached.
 */
import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { generateKeyPair } from 'node:crypto';
import { promisify } from 'node:util';
import { Repository } from 'typeorm';
import { AppEntity, AppStatus } from './app.entity';
import { SecretBox } from '../crypto/secret-box';
import { newAppId } from '../crypto/random-ids';
import { AppCache } from './app-cache';

const generateKeyPairAsync = promisify(generateKeyPair);
const APP_CACHE_TTL_MS = 5_000;
/** Far more apps than one instance serves at once; the bound only matters against a flood. */
const APP_CACHE_CAPACITY = 10_000;

/** The platform's reserved username prefixes: the default for a new app. */
export const DEFAULT_RESERVED_PREFIXES = ['maxim', 'mta'];

/** A new app's name, and any of its settings (the others take their defaults). */
export type NewAppSettings = Pick<AppEntity, 'name'> &
  Partial<Omit<AppEntity, 'id' | 'name' | 'status' | 'publicKey' | 'privateKeySealed' | 'createdAt'>>;

@Injectable()
export class TenantsService {
  private readonly cache = new AppCache(APP_CACHE_TTL_MS, APP_CACHE_CAPACITY);

  constructor(
    @InjectRepository(AppEntity) private readonly apps: Repository<AppEntity>,
    private readonly secretBox: SecretBox,
  ) {}

  async create(settings: NewAppSettings): Promise<AppEntity> {
    const { publicKey, privateKey } = await generateKeyPairAsync('rsa', {
      modulusLength: 2048,
      publicKeyEncoding: { type: 'spki', format: 'pem' },
      privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
    });
    const app = this.apps.create({
      id: newAppId(),
      name: settings.name,
      status: AppStatus.Active,
      tokenTtlSeconds: settings.tokenTtlSeconds ?? 7 * 24 * 3600,
      openRegistration: settings.openRegistration ?? false,
      passwordMinLength: settings.passwordMinLength ?? 8,
      defaultRegion: settings.defaultRegion?.toUpperCase() ?? null,
      reservedUsernamePrefixes: settings.reservedUsernamePrefixes ?? DEFAULT_RESERVED_PREFIXES,
      encryptType: settings.encryptType ?? 0,
      errorHttpStatus: settings.errorHttpStatus ?? null,
      loginFreeFailures: settings.loginFreeFailures ?? 5,
      loginIpFreeFailures: settings.loginIpFreeFailures ?? 50,
      loginMaxDelaySeconds: settings.loginMaxDelaySeconds ?? 900,
      loginFailureResetSeconds: settings.loginFailureResetSeconds ?? 3600,
      publicKey,
      privateKeySealed: this.secretBox.seal(privateKey),
    });
    return this.apps.save(app);
  }

  /** The app with this id, active or not; null when there is none. An app found is cached briefly. */
  async find(id: string): Promise<AppEntity | null> {
    const cached = this.cache.get(id);
    if (cached) return cached;
    const app = await this.apps.findOneBy({ id });
    if (app) this.cache.set(app);
    return app;
  }

  /** How many apps the cache holds now (for tests and diagnostics). */
  get cachedApps(): number {
    return this.cache.size;
  }

  list(): Promise<AppEntity[]> {
    return this.apps.find({ order: { createdAt: 'ASC' } });
  }

  async update(id: string, changes: Partial<Omit<NewAppSettings, 'name'>> & { status?: AppStatus; name?: string }): Promise<AppEntity | null> {
    await this.apps.update({ id }, changes);
    this.cache.delete(id);
    return this.find(id);
  }
}
