export * from './rs256-jws';
export * from './verified-token-cache';
