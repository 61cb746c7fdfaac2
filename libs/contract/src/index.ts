export * from './error-catalogue';
export * from './envelope';
export * from './int64';
