/**
 * Seals secrets at rest (the private halves of signing keys and app key pairs) with AES-256-GCM
 * under the master key. The master key comes from MASTER_KEY, or, when that is unset, from
 * `DATA_DIR/master.key`, generated on the first start with mode 0600 (a developer's machine, or
 * `docker compose up` with no set-up, where DATA_DIR is the auth-data volume); the log says where
 * it is. Production sets MASTER_KEY from its secret store, the same on every instance.
 */
import { Inject, Injectable, Logger } from '@nestjs/common';
import { createCipheriv, createDecipheriv, createHmac, randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SERVICE_CONFIG, type ServiceConfig } from '@app/config';
import { ensurePrivateDirectory } from '@app/persistence';

const VERSION = 'v1';

@Injectable()
export class SecretBox {
  private readonly logger = new Logger(SecretBox.name);
  private readonly key: Buffer;

  constructor(@Inject(SERVICE_CONFIG) config: ServiceConfig) {
    this.key = config.masterKey ?? this.keyFromDataDir(config);
  }

  seal(plaintext: string): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.key, iv);
    const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    return [VERSION, iv, cipher.getAuthTag(), body].map((part) => (typeof part === 'string' ? part : part.toString('base64url'))).join('.');
  }

  open(sealed: string): string {
    const [version, iv, tag, body] = sealed.split('.');
    if (version !== VERSION || !iv || !tag || body === undefined) throw new Error('Sealed value has an unknown format');
    const decipher = createDecipheriv('aes-256-gcm', this.key, Buffer.from(iv, 'base64url'));
    decipher.setAuthTag(Buffer.from(tag, 'base64url'));
    return Buffer.concat([decipher.update(Buffer.from(body, 'base64url')), decipher.final()]).toString('utf8');
  }

  /** A key for one purpose, derived from the master key, so one secret never serves two jobs. */
  deriveKey(purpose: string): Buffer {
    return createHmac('sha256', this.key).update(`im-auth:${purpose}`).digest();
  }

  private keyFromDataDir(config: ServiceConfig): Buffer {
    const file = join(config.dataDir, 'master.key');
    if (!existsSync(file) && this.generateKeyFile(config.dataDir, file)) {
      this.logger.warn(`MASTER_KEY is not set: generated a master key in ${file}. Keep that file: it seals the signing keys. Production must set MASTER_KEY.`);
    } else if (config.nodeEnv === 'production') {
      this.logger.warn(`MASTER_KEY is not set: using the master key in ${file}. Production must set MASTER_KEY.`);
    } else {
      this.logger.log(`MASTER_KEY is not set: using the master key in ${file}`);
    }
    const key = Buffer.from(readFileSync(file, 'utf8').trim(), 'hex');
    if (key.length !== 32) throw new Error(`${file} does not hold a 32-byte hex key`);
    return key;
  }

  /** Creates `file` with a new key; false when another process (the CLI starting beside the service) made it first. */
  private generateKeyFile(dataDir: string, file: string): boolean {
    ensurePrivateDirectory(dataDir);
    try {
      writeFileSync(file, randomBytes(32).toString('hex'), { mode: 0o600, flag: 'wx' });
      return true;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
      throw error;
    }
  }
}
