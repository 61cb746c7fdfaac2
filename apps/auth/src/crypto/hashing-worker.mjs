// @ts-check
/**
 * One worker thread of HashingPool (hashing-pool.ts). It lowers its own scheduling priority, says
 * it is ready, then answers one job at a time with the bindings' synchronous functions: the async
 * ones would hand the work back to libuv's pool, at normal priority.
 *
 * Plain JavaScript, which tsc copies into dist/ beside the pool: the same file then runs as it is
 * whether the pool was built or runs from source (jest, `npm run cli`, the benchmark), where
 * compiling TypeScript in each thread would cost a second per worker.
 */
import { hashSync, verifySync } from '@node-rs/argon2';
import { verifySync as bcryptVerifySync } from '@node-rs/bcrypt';
import { readlinkSync } from 'node:fs';
import { setPriority } from 'node:os';
import { parentPort, workerData } from 'node:worker_threads';

if (!parentPort) throw new Error('hashing-worker.mjs runs as a worker thread of HashingPool');
const pool = parentPort;

// Linux sets nice per thread: this one's kernel thread id, from /proc/thread-self (`<pid>/task/<tid>`).
let tid;
try {
  const match = /\/task\/(\d+)$/.exec(readlinkSync('/proc/thread-self'));
  if (match) {
    tid = Number(match[1]);
    setPriority(tid, workerData.nice);
  }
} catch {
  // not Linux, or not allowed: hash at normal priority
}
pool.postMessage({ ready: true, tid });

pool.on('message', (/** @type {import('./hashing-pool.js').HashingJob} */ job) => {
  try {
    if (job.op === 'hash') pool.postMessage({ value: hashSync(job.password, job.options) });
    else if (job.op === 'verifyArgon2') pool.postMessage({ value: verifySync(job.hash, job.password) });
    else pool.postMessage({ value: bcryptVerifySync(job.password, job.hash) }); // password first
  } catch (error) {
    pool.postMessage({ error: error instanceof Error ? error.message : String(error) });
  }
});
