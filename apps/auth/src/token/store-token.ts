/**
 * The file store's pair in a login's reply, `store_token` and `access_key_secret`, under a key of
 * the app's own: `app_file_key = HMAC-SHA256(file-store secret, "app:" + app_id)`. A file service
 * of one app is given only its app's key (`npm run cli -- app file-key`), so a pair issued for
 * another app fails its check, and no file service can mint pairs for another app.
 *
 * - `store_token`: a short HS256 JWT (scope "file", audience "file-store", `app_id`) under
 *   HMAC-SHA256(app_file_key, "store_token"). Only the file service reads it, and it holds the key
 *   anyway (it re-derives `access_key_secret` with it), so a public-key signature would buy nothing
 *   and cost a second RSA signature per login (about as much CPU as the rest of a login's pipeline).
 * - `access_key_secret`: base64url(HMAC-SHA256(app_file_key, store_token's jti)).
 * The check a file service makes: docs/tokens.md.
 */
import { Inject, Injectable } from '@nestjs/common';
import { JwtService } from '@nestjs/jwt';
import { createHmac, createSecretKey } from 'node:crypto';
import { SERVICE_CONFIG, type ServiceConfig } from '@app/config';
import { SecretBox } from '../crypto/secret-box';
import { newJti } from '../crypto/random-ids';
import type { AppEntity } from '../tenants/app.entity';

export const STORE_TOKEN_AUDIENCE = 'file-store';
export const STORE_TOKEN_SCOPE = 'file';
export const STORE_TOKEN_ALGORITHM = 'HS256';

/** FILE_STORE_SECRET, or a key derived from the master key when it is unset. */
export function fileStoreSecretOf(config: ServiceConfig, secretBox: SecretBox): Buffer {
  return config.fileStoreSecret ?? secretBox.deriveKey('file-store');
}

/** The key of one app's file service: HMAC-SHA256(file-store secret, "app:" + app_id). */
export function appFileKeyOf(fileStoreSecret: Buffer, appId: string): Buffer {
  return createHmac('sha256', fileStoreSecret).update(`app:${appId}`).digest();
}

/** The store token's HS256 key: HMAC-SHA256(app_file_key, "store_token"). */
export function storeTokenKeyOf(appFileKey: Buffer): Buffer {
  return createHmac('sha256', appFileKey).update('store_token').digest();
}

/** base64url(HMAC-SHA256(app_file_key, jti)): what goes with the store token of that jti. */
export function accessKeySecretOf(appFileKey: Buffer, storeTokenJti: string): string {
  return createHmac('sha256', appFileKey).update(storeTokenJti).digest('base64url');
}

export interface StoreTokenPair {
  store_token: string;
  access_key_secret: string;
}

@Injectable()
export class StoreTokenSigner {
  private readonly fileStoreSecret: Buffer;

  constructor(
    private readonly jwt: JwtService,
    secretBox: SecretBox,
    @Inject(SERVICE_CONFIG) private readonly config: ServiceConfig,
  ) {
    this.fileStoreSecret = fileStoreSecretOf(config, secretBox);
  }

  /** A pair for this user of this app, living STORE_TOKEN_TTL_SECONDS but never past the access token. */
  sign(app: AppEntity, userId: number, issuedAt: number): StoreTokenPair {
    const appKey = appFileKeyOf(this.fileStoreSecret, app.id);
    const jti = newJti();
    const storeToken = this.jwt.sign(
      {
        iss: this.config.tokenIssuer,
        sub: String(userId),
        app_id: app.id,
        aud: STORE_TOKEN_AUDIENCE,
        scope: STORE_TOKEN_SCOPE,
        jti,
        iat: issuedAt,
        exp: issuedAt + Math.min(this.config.storeTokenTtlSeconds, app.tokenTtlSeconds),
      },
      // A KeyObject: given bytes, jsonwebtoken first tries (and fails) to parse them as a private key.
      { algorithm: STORE_TOKEN_ALGORITHM, privateKey: createSecretKey(storeTokenKeyOf(appKey)) },
    );
    return { store_token: storeToken, access_key_secret: accessKeySecretOf(appKey, jti) };
  }

  /** The key to give the file service of this app (and only that one). */
  appFileKey(appId: string): Buffer {
    return appFileKeyOf(this.fileStoreSecret, appId);
  }
}
