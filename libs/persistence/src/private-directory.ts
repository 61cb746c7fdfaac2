/**
 * DATA_DIR holds the embedded database, its socket, master.key and the demo's secrets: only the
 * service's own user may enter it. Made mode 0700 when created, and tightened to 0700 when found
 * more open (a folder made by hand, or by an earlier version); a folder we cannot tighten (owned
 * by another user) stops the start rather than keep secrets where others can read them.
 */
import { chmodSync, mkdirSync, statSync } from 'node:fs';

export function ensurePrivateDirectory(dir: string): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  if ((statSync(dir).mode & 0o077) === 0) return;
  try {
    chmodSync(dir, 0o700);
  } catch (error) {
    throw new Error(`${dir} is open to other users and cannot be made private (mode 0700): ${(error as Error).message}`, { cause: error });
  }
}
