import { CanActivate, createParamDecorator, DynamicModule, ExecutionContext, HttpException, Injectable, Module } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { ErrorCatalogue, errorEnvelope, type ErrorDefinition } from '@app/contract';
import { RevocationsStale, TokenRejected, UnknownSigningKey, type AuthClientOptions, type VerifiedPrincipal } from './token-verifier';
import { AUTH_CLIENT_OPTIONS, AuthClient } from './auth-client';
import { AuthClientHealthIndicator } from './auth-client.health';

interface RequestWithPrincipal {
  headers: Record<string, string | string[] | undefined>;
  authPrincipal?: VerifiedPrincipal;
}

/**
 * Lets only requests with a valid `access-token` of the auth service through, and hands the
 * principal to handlers through `@AuthPrincipal()`. Refusals are the auth service's own, from its
 * error catalogue, in its envelope: 10003 without a token, 10002 without `app_id`, 10008 with a
 * token this service must not accept (the message says why).
 *
 * A token seen before, or of a loaded key, is decided synchronously (`verifySync`: no promise, no
 * extra turn of the event loop); only a token naming a key not loaded yet (the JWKS is fetched),
 * or of an app whose revocation log is stale (introspected, if so configured), waits (`verify`).
 */
@Injectable()
export class AuthClientGuard implements CanActivate {
  constructor(private readonly client: AuthClient) {}

  canActivate(context: ExecutionContext): boolean | Promise<boolean> {
    const request = context.switchToHttp().getRequest<RequestWithPrincipal>();
    const token = request.headers['access-token'];
    const appId = request.headers['app_id'];
    if (typeof token !== 'string' || token === '') throw refusal(ErrorCatalogue.ACCESS_TOKEN_MISSING);
    if (typeof appId !== 'string' || appId === '') throw refusal(ErrorCatalogue.BAD_PARAMETER, 'app_id header is required');
    try {
      request.authPrincipal = this.client.verifier.verifySync(token, appId);
      return true;
    } catch (error) {
      if (error instanceof UnknownSigningKey || error instanceof RevocationsStale) return this.verifyAsync(request, token, appId);
      throw asRefusal(error);
    }
  }

  private async verifyAsync(request: RequestWithPrincipal, token: string, appId: string): Promise<boolean> {
    try {
      request.authPrincipal = await this.client.verifier.verify(token, appId);
      return true;
    } catch (error) {
      throw asRefusal(error);
    }
  }
}

/** A TokenRejected as the reply it calls for; anything else (a bug) as it is. */
function asRefusal(error: unknown): unknown {
  return error instanceof TokenRejected ? refusal(ErrorCatalogue.ACCESS_TOKEN_INVALID, error.message) : error;
}

function refusal(definition: ErrorDefinition, message = definition.message): HttpException {
  return new HttpException(errorEnvelope(definition.code, message), definition.status);
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
      imports: [TerminusModule],
      providers: [{ provide: AUTH_CLIENT_OPTIONS, useValue: options }, AuthClient, AuthClientGuard, AuthClientHealthIndicator],
      exports: [AuthClient, AuthClientGuard, AuthClientHealthIndicator],
    };
  }
}
