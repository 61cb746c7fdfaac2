/**
 * `--fresh-db`: a new, empty database on the server DATABASE_URL points at, named
 * `bench_<timestamp>`, dropped when the run ends, so runs never measure each other's rows and
 * leave nothing behind. (Without it the benchmark writes its app and users into the given database.)
 */
import { Client } from 'pg';

export interface FreshDatabase {
  readonly name: string;
  readonly url: string;
  drop(): Promise<void>;
}

export async function createFreshDatabase(serverUrl: string): Promise<FreshDatabase> {
  const name = `bench_${Date.now()}`;
  await onServer(serverUrl, `CREATE DATABASE ${name}`);
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return {
    name,
    url: url.toString(),
    drop: () => onServer(serverUrl, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`),
  };
}

async function onServer(serverUrl: string, statement: string): Promise<void> {
  const client = new Client({ connectionString: serverUrl });
  await client.connect();
  try {
    await client.query(statement);
  } finally {
    await client.end();
  }
}
