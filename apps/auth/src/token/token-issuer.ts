/**
 * Builds a login's reply: records the session (and the device) and signs the tokens.
 *
 * - `token`: RS256 JWT signed with the active signing key, `kid` header; claims iss, sub (user
 *   id), app_id, jti, iat, exp and device_sn when a device was given. Its jti is the session
 *   row's key.
 * - `store_token` and `access_key_secret`: the file store's pair, under the app's own file key
 *   (store-token.ts).
 */
import { Inject, Injectable } from '@nestjs/common';
import { JwtService } from '@nestjs/jwt';
import { setImmediate as afterPendingTicks } from 'node:timers/promises';
import { SERVICE_CONFIG, type ServiceConfig } from '@app/config';
import { LoginRecorder, type DeviceLogin } from './login-recorder';
import { TokenReply } from './dto/token-reply';
import { SigningKeysService, SIGNING_ALGORITHM } from '../signing-keys/signing-keys.service';
import { newJti } from '../crypto/random-ids';
import { StoreTokenSigner } from './store-token';
import type { AppEntity } from '../tenants/app.entity';
import type { ProvenLogin } from './credentials-verifier';

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
  constructor(
    private readonly jwt: JwtService,
    private readonly signingKeys: SigningKeysService,
    private readonly recorder: LoginRecorder,
    private readonly storeTokens: StoreTokenSigner,
    @Inject(SERVICE_CONFIG) private readonly config: ServiceConfig,
  ) {}

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
    const fileStore = this.storeTokens.sign(app, user.id, issuedAt);
    const signedEarly = device ? undefined : this.sign(claims);
    const recorded = await recording;

    return {
      token: signedEarly ?? this.sign({ ...claims, device_sn: recorded!.deviceSn }),
      user_id: user.id,
      expire: expiresAt * 1000,
      push_token: recorded?.pushToken ?? null,
      ...fileStore,
      public_key: app.publicKey,
      encrypt_type: app.encryptType,
    };
  }

  private sign(claims: object): string {
    const key = this.signingKeys.activeKey();
    return this.jwt.sign(claims, { algorithm: SIGNING_ALGORITHM, keyid: key.kid, privateKey: key.privateKey });
  }
}
