import { openEmbeddedPostgres, EmbeddedPostgres } from './embedded-postgres';

export interface DatabaseLocation {
  readonly url: string;
  /** 'server' for DATABASE_URL; 'embedded' for PGlite under DATA_DIR. */
  readonly kind: 'server' | 'embedded';
  /** Releases what this process opened (stops an embedded database it owns). */
  release(): Promise<void>;
}

/**
 * Where the database is: DATABASE_URL when given, else the embedded PostgreSQL under DATA_DIR
 * (opened here, or joined when another process of ours already serves it).
 */
export async function locateDatabase(options: {
  databaseUrl: string | undefined;
  dataDir: string;
}): Promise<DatabaseLocation> {
  if (options.databaseUrl) {
    return { url: options.databaseUrl, kind: 'server', release: async () => undefined };
  }
  const embedded: EmbeddedPostgres = await openEmbeddedPostgres(options.dataDir);
  return { url: embedded.url, kind: 'embedded', release: () => embedded.stop() };
}
