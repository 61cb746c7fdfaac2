import { CanActivate, createParamDecorator, DynamicModule, ExecutionContext, HttpException, Inject, Injectable, Module, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import { TokenRejected, TokenVerifier, UnknownSigningKey, type AuthClientOptions, type VerifiedPrincipal } from './token-verifier';

export const AUTH_CLIENT_OPTIONS = Symbol('AUTH_CLIENT_OPTIONS');

/** Owns the verifier's life: loads keys and revocations at start, stops polling at shutdown. */
@Injectable()
export class AuthClient implements OnModuleInit, OnApplicationShutdown {
  readonly verifier: TokenVerifier;

  constructor(@Inject(AUTH_CLIENT_OPTIONS) options: AuthClientOptions) {
    this.verifier = new TokenVerifier(options);
  }

  onModuleInit(): Promise<void> {
    return this.verifier.start();
  }

  onApplicationShutdown(): void {
    this.verifier.stop();
  }
}

interface RequestWithPrincipal {
  headers: Record<string, string | string[] | undefined>;
  authPrincipal?: VerifiedPrincipal;
}

/**
 * Lets only requests with a valid `access-token` of the auth service through, and hands the
 * principal to handlers through `@AuthPrincipal()`. Refusals use the platform's envelope:
 * 10003 without a token, 10008 with an unusable one.
 *
 * A token of a loaded key is decided synchronously (`verifySync`: no promise, no extra turn of
 * the event loop); only a token naming a key not loaded yet waits for the JWKS (`verify`).
 */
@Injectable()
export class AuthClientGuard implements CanActivate {
  constructor(private readonly client: AuthClient) {}

  canActivate(context: ExecutionContext): boolean | Promise<boolean> {
    const request = context.switchToHttp().getRequest<RequestWithPrincipal>();
    const token = request.headers['access-token'];
    const appId = request.headers['app_id'];
    if (typeof token !== 'string' || token === '') throw refusal(401, 10003, 'access-token is missing from the header');
    if (typeof appId !== 'string' || appId === '') throw refusal(400, 10002, 'app_id header is required');
    try {
      request.authPrincipal = this.client.verifier.verifySync(token, appId);
      return true;
    } catch (error) {
      if (error instanceof UnknownSigningKey) return this.verifyAfterKeyFetch(request, token, appId);
      throw asRefusal(error);
    }
  }

  private async verifyAfterKeyFetch(request: RequestWithPrincipal, token: string, appId: string): Promise<boolean> {
    try {
      request.authPrincipal = await this.client.verifier.verify(token, appId);
      return true;
    } catch (error) {
      throw asRefusal(error);
    }
  }
}

/** A TokenRejected as the 401 reply it calls for; anything else (the JWKS unreachable, a bug) as it is. */
function asRefusal(error: unknown): unknown {
  return error instanceof TokenRejected ? refusal(401, error.code, error.message) : error;
}

function refusal(status: number, code: number, message: string): HttpException {
  return new HttpException({ code, message, data: null }, status);
}

export const AuthPrincipal = createParamDecorator((_data: unknown, context: ExecutionContext): VerifiedPrincipal => {
  const principal = context.switchToHttp().getRequest<RequestWithPrincipal>().authPrincipal;
  if (!principal) throw new Error('@AuthPrincipal() used on a route without AuthClientGuard');
  return principal;
});

/** What another NestJS service imports to trust the auth service's tokens. */
@Module({})
export class AuthClientModule {
  static forRoot(options: AuthClientOptions): DynamicModule {
    return {
      module: AuthClientModule,
      global: true,
      providers: [{ provide: AUTH_CLIENT_OPTIONS, useValue: options }, AuthClient, AuthClientGuard],
      exports: [AuthClient, AuthClientGuard],
    };
  }
}
