export * from './token-verifier';
export * from './auth-client.module';
