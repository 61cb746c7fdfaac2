import { Inject, Injectable, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import { TokenVerifier, type AuthClientOptions } from './token-verifier';

export const AUTH_CLIENT_OPTIONS = Symbol('AUTH_CLIENT_OPTIONS');

/** Owns the verifier's life: loads keys and revocations at start, stops following them at shutdown. */
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
