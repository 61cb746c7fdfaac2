export * from './token-verifier';
export * from './auth-client';
export * from './auth-client.module';
export * from './auth-client.health';
