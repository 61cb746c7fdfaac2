export * from './rs256-jws';
