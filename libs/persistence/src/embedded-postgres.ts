/**
 * The embedded PostgreSQL used when no DATABASE_URL is given: PGlite (PostgreSQL compiled to WASM)
 * with its data directory on disk, served over the PostgreSQL wire protocol on a unix socket so
 * that TypeORM and `pg` talk to it exactly as they talk to a real server.
 *
 * PGlite's socket server has no authentication, so the socket is the lock: it lives in DATA_DIR,
 * which is mode 0700 (private-directory.ts), so only the service's own user can connect, as only
 * it can read the files. (A path too long for a socket, about 100 bytes, puts the socket in a
 * fresh 0700 folder under the system's temporary folder instead.) Nothing listens on TCP.
 *
 * PGlite's data directory must be opened by one process only. The process that opens it writes
 * `embedded-postgres.json` (its pid and socket folder) beside the data; any other process of ours
 * (the CLI or a migration run while `npm start` runs) finds that file, sees the owner alive and
 * connects to its socket instead of opening the files a second time.
 */
import { existsSync, lstatSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from 'node:net';
import { PGlite } from '@electric-sql/pglite';
import { PGLiteSocketServer } from '@electric-sql/pglite-socket';
import { ensurePrivateDirectory } from './private-directory';

export interface EmbeddedPostgres {
  /** A `postgresql://` URL for `pg` and TypeORM (the socket's folder in its `host` parameter). */
  readonly url: string;
  /** True when this process owns the database (and must stop it); false when it joined another. */
  readonly owned: boolean;
  stop(): Promise<void>;
}

interface OwnerRecord {
  pid: number;
  /** The folder of the socket `.s.PGSQL.5432`, as `pg` takes it for `host`. */
  socketDir: string;
}

const OWNER_FILE = 'embedded-postgres.json';
/** libpq's and `pg`'s name for the socket of port 5432 in its folder. */
const SOCKET_NAME = '.s.PGSQL.5432';
/** sun_path holds 108 bytes on Linux, 104 on macOS, the terminating zero included. */
const MAX_SOCKET_PATH = 100;
/** Connections the socket server multiplexes onto PGlite's single session. */
const MAX_CONNECTIONS = 100;

export async function openEmbeddedPostgres(dataDir: string): Promise<EmbeddedPostgres> {
  ensurePrivateDirectory(dataDir);
  const ownerFile = join(dataDir, OWNER_FILE);

  const owner = readOwner(ownerFile);
  if (owner && owner.pid !== process.pid && isAlive(owner.pid) && (await answers(socketOf(owner.socketDir)))) {
    return { url: urlFor(owner.socketDir), owned: false, stop: async () => undefined };
  }

  const socketDir = Buffer.byteLength(join(dataDir, SOCKET_NAME)) <= MAX_SOCKET_PATH ? dataDir : mkdtempSync(join(tmpdir(), 'im-auth-pg-'));
  removeStaleSocket(socketOf(socketDir));
  const db = await PGlite.create({ dataDir: join(dataDir, 'pgdata') });
  const server = new PGLiteSocketServer({ db, path: socketOf(socketDir), maxConnections: MAX_CONNECTIONS });
  await server.start();
  writeFileSync(ownerFile, JSON.stringify({ pid: process.pid, socketDir } satisfies OwnerRecord), { mode: 0o600 });

  let stopped = false;
  return {
    url: urlFor(socketDir),
    owned: true,
    async stop() {
      if (stopped) return;
      stopped = true;
      if (readOwner(ownerFile)?.pid === process.pid) rmSync(ownerFile, { force: true });
      await server.stop(); // closing the server removes its socket file
      await db.close();
      if (socketDir !== dataDir) rmSync(socketDir, { recursive: true, force: true });
    },
  };
}

function socketOf(socketDir: string): string {
  return join(socketDir, SOCKET_NAME);
}

function urlFor(socketDir: string): string {
  return `postgresql://postgres@localhost/postgres?host=${encodeURIComponent(socketDir)}`;
}

/** A socket left by a process that died without closing it would make the new one's listen fail. */
function removeStaleSocket(path: string): void {
  try {
    if (lstatSync(path).isSocket()) rmSync(path);
  } catch {
    // nothing there
  }
}

function readOwner(file: string): OwnerRecord | undefined {
  if (!existsSync(file)) return undefined;
  try {
    const parsed = JSON.parse(readFileSync(file, 'utf8')) as Partial<OwnerRecord>;
    return typeof parsed.pid === 'number' && typeof parsed.socketDir === 'string'
      ? { pid: parsed.pid, socketDir: parsed.socketDir }
      : undefined;
  } catch {
    return undefined; // a torn or foreign file (or one of a version that served on TCP): treated as no owner
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

function answers(socketPath: string): Promise<boolean> {
  return new Promise((resolvePromise) => {
    const socket = connect({ path: socketPath });
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
