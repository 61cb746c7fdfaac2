export * from './embedded-postgres';
export * from './database-location';
export * from './private-directory';
export * from './postgres-errors';
export * from './int64-column';
export * from './prepared-statements';
export * from './batched-lookup';
