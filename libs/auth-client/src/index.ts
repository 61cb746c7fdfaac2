export * from './token-verifier';
export * from './rs256-jws';
export * from './auth-client.module';
