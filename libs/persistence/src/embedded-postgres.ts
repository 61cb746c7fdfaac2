/**
 * The embedded PostgreSQL used when no DATABASE_URL is given: PGlite (PostgreSQL compiled to WASM)
 * with its data directory on disk, served over the PostgreSQL wire protocol on loopback so that
 * TypeORM and `pg` talk to it exactly as they talk to a real server.
 *
 * PGlite's data directory must be opened by one process only. The process that opens it writes
 * `embedded-postgres.json` (its pid and port) beside the data; any other process of ours (the CLI
 * or a migration run while `npm start` runs) finds that file, sees the owner alive and connects to
 * its port instead of opening the files a second time.
 */
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { connect } from 'node:net';
import { PGlite } from '@electric-sql/pglite';
import { PGLiteSocketServer } from '@electric-sql/pglite-socket';

export interface EmbeddedPostgres {
  /** A `postgresql://` URL for `pg` and TypeORM. */
  readonly url: string;
  /** True when this process owns the database (and must stop it); false when it joined another. */
  readonly owned: boolean;
  stop(): Promise<void>;
}

interface OwnerRecord {
  pid: number;
  port: number;
}

const OWNER_FILE = 'embedded-postgres.json';
/** Connections the socket server multiplexes onto PGlite's single session. */
const MAX_CONNECTIONS = 100;

export async function openEmbeddedPostgres(dataDir: string, port = 0): Promise<EmbeddedPostgres> {
  mkdirSync(dataDir, { recursive: true });
  const ownerFile = join(dataDir, OWNER_FILE);

  const owner = readOwner(ownerFile);
  if (owner && owner.pid !== process.pid && isAlive(owner.pid) && (await answers(owner.port))) {
    return { url: urlFor(owner.port), owned: false, stop: async () => undefined };
  }

  const db = await PGlite.create({ dataDir: join(dataDir, 'pgdata') });
  const server = new PGLiteSocketServer({ db, host: '127.0.0.1', port, maxConnections: MAX_CONNECTIONS });
  await server.start();
  const boundPort = Number(server.getServerConn().split(':').pop());
  writeFileSync(ownerFile, JSON.stringify({ pid: process.pid, port: boundPort } satisfies OwnerRecord));

  let stopped = false;
  return {
    url: urlFor(boundPort),
    owned: true,
    async stop() {
      if (stopped) return;
      stopped = true;
      if (readOwner(ownerFile)?.pid === process.pid) rmSync(ownerFile, { force: true });
      await server.stop();
      await db.close();
    },
  };
}

function urlFor(port: number): string {
  return `postgresql://postgres@127.0.0.1:${port}/postgres?sslmode=disable`;
}

function readOwner(file: string): OwnerRecord | undefined {
  if (!existsSync(file)) return undefined;
  try {
    const parsed = JSON.parse(readFileSync(file, 'utf8')) as Partial<OwnerRecord>;
    return typeof parsed.pid === 'number' && typeof parsed.port === 'number'
      ? { pid: parsed.pid, port: parsed.port }
      : undefined;
  } catch {
    return undefined; // a torn or foreign file: treated as no owner
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function answers(port: number): Promise<boolean> {
  return new Promise((resolvePromise) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.setTimeout(1000);
    socket.once('connect', () => {
      socket.destroy();
      resolvePromise(true);
    });
    socket.once('timeout', () => {
      socket.destroy();
      resolvePromise(false);
    });
    socket.once('error', () => resolvePromise(false));
  });
}
