/**
 * Builds a login's reply: records the session (and the device) and signs the tokens.
 *
 * - `token`: RS256 JWT signed with the active signing key, `kid` header; claims iss, sub (user
 *   id), app_id, jti, iat, exp and device_sn when a device was given. Its jti is the session
 *   row's key.
 * - `store_token`: a short HS256 JWT with scope "file" and audience "file-store", under a key
 *   derived from the file-store secret. Only the file service reads it, and it holds that secret
 *   anyway (it re-derives `access_key_secret` with it), so a public-key signature would buy
 *   nothing and cost a second RSA signature per login (about as much CPU as the rest of a login's
 *   pipeline together).
 * - `access_key_secret`: base64url(HMAC-SHA256(file-store secret, store_token's jti)); a file
 *   service holding the secret re-derives it from the store token alone (docs/tokens.md).
 */
import { Inject, Injectable } from '@nestjs/common';
import { JwtService } from '@nestjs/jwt';
import { createHmac, createSecretKey, type KeyObject } from 'node:crypto';
import { setImmediate as afterPendingTicks } from 'node:timers/promises';
import { SERVICE_CONFIG, type ServiceConfig } from '@app/config';
import { LoginRecorder, type DeviceLogin } from './login-recorder';
import { TokenReply } from './dto/token-reply';
import { SigningKeysService, SIGNING_ALGORITHM } from '../signing-keys/signing-keys.service';
import { SecretBox } from '../crypto/secret-box';
import { newJti } from '../crypto/random-ids';
import type { AppEntity } from '../apps/app.entity';
import type { ProvenLogin } from './credentials-verifier';

export const STORE_TOKEN_AUDIENCE = 'file-store';
export const STORE_TOKEN_SCOPE = 'file';
export const STORE_TOKEN_ALGORITHM = 'HS256';

/** The store token's HMAC key: HMAC-SHA256(file-store secret, "store_token"), docs/tokens.md. */
export function storeTokenKeyOf(fileStoreSecret: Buffer): Buffer {
  return createHmac('sha256', fileStoreSecret).update('store_token').digest();
}

/** The claims of an access token we issue. */
export interface AccessTokenClaims {
  iss: string;
  sub: string;
  app_id: string;
  jti: string;
  iat: number;
  exp: number;
  device_sn?: number;
  /** RFC 8693: the real caller, when the token was issued during an impersonated call. */
  act?: { sub: string };
}

@Injectable()
export class TokenIssuer {
  private readonly fileStoreKey: Buffer;
  /** A KeyObject: given bytes, jsonwebtoken first tries (and fails) to parse them as a private key, every call. */
  private readonly storeTokenKey: KeyObject;

  constructor(
    private readonly jwt: JwtService,
    private readonly signingKeys: SigningKeysService,
    private readonly recorder: LoginRecorder,
    secretBox: SecretBox,
    @Inject(SERVICE_CONFIG) private readonly config: ServiceConfig,
  ) {
    this.fileStoreKey = config.fileStoreSecret ?? secretBox.deriveKey('file-store');
    this.storeTokenKey = createSecretKey(storeTokenKeyOf(this.fileStoreKey));
  }

  /** `proven`: what the password check found, which the session write holds to (login-recorder.ts). */
  async issue(app: AppEntity, proven: ProvenLogin, device?: DeviceLogin, actor?: string): Promise<TokenReply> {
    const { user } = proven;
    const issuedAt = Math.floor(Date.now() / 1000);
    const expiresAt = issuedAt + app.tokenTtlSeconds;
    const jti = newJti();
    const recording = this.recorder.record(
      { jti, appId: app.id, issuedAt: new Date(issuedAt * 1000), expiresAt: new Date(expiresAt * 1000) },
      proven,
      device,
    );
    // Awaited below; should a signature throw first, its failure is not left unhandled.
    recording.catch(() => undefined);
    // What does not depend on the write is signed while the write is in flight: the store token,
    // and the access token unless it must name the device's number. The driver sends the
    // statement a tick or two later (pg-pool hands out an idle connection on process.nextTick),
    // so signing at once would run before it even left; setImmediate comes after those ticks.
    await afterPendingTicks();
    const claims: AccessTokenClaims = {
      iss: this.config.tokenIssuer,
      sub: String(user.id),
      app_id: app.id,
      jti,
      iat: issuedAt,
      exp: expiresAt,
      ...(actor ? { act: { sub: actor } } : {}),
    };
    const storeJti = newJti();
    const storeToken = this.jwt.sign(
      {
        iss: this.config.tokenIssuer,
        sub: String(user.id),
        app_id: app.id,
        aud: STORE_TOKEN_AUDIENCE,
        scope: STORE_TOKEN_SCOPE,
        jti: storeJti,
        iat: issuedAt,
        exp: issuedAt + Math.min(this.config.storeTokenTtlSeconds, app.tokenTtlSeconds),
      },
      { algorithm: STORE_TOKEN_ALGORITHM, privateKey: this.storeTokenKey },
    );
    const signedEarly = device ? undefined : this.sign(claims);
    const recorded = await recording;

    return {
      token: signedEarly ?? this.sign({ ...claims, device_sn: recorded!.deviceSn }),
      user_id: user.id,
      expire: expiresAt * 1000,
      push_token: recorded?.pushToken ?? null,
      store_token: storeToken,
      access_key_secret: this.accessKeySecret(storeJti),
      public_key: app.publicKey,
      encrypt_type: app.encryptType,
    };
  }

  /** What a file service computes to check an `access_key_secret` against a store token's jti. */
  accessKeySecret(storeTokenJti: string): string {
    return createHmac('sha256', this.fileStoreKey).update(storeTokenJti).digest('base64url');
  }

  private sign(claims: object): string {
    const key = this.signingKeys.activeKey();
    return this.jwt.sign(claims, { algorithm: SIGNING_ALGORITHM, keyid: key.kid, privateKey: key.privateKey });
  }
}
