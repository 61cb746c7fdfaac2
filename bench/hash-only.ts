/**
 * The ceiling every login row is compared with: argon2id verifications through the same path,
 * binding and parameters as the service (its HashingPool: one worker thread per core, niced,
 * calling `@node-rs/argon2` `verifySync`), flat out, with nothing else in the process. Measured in the service process before the service
 * starts, so it sees the same machine, thread pool and parameters.
 *
 * Two figures are printed side by side: one verification's time when idle, times the core count
 * (what the machine would do if cores did not slow each other down), and the measured flat-out
 * rate. The gap between them is contention for memory bandwidth and caches (each verification
 * walks `memoryCost` KiB), or SMT siblings sharing a core.
 */
import { hash, verify } from '@node-rs/argon2';
import { HashingPool } from '../apps/auth/src/crypto/hashing-pool';
import { availableParallelism, cpus } from 'node:os';
import type { Argon2Params, HashOnlyLine } from './protocol';

/** `Algorithm.Argon2id`: the binding's enums are `const`, which isolated compilers cannot inline. */
const ARGON2ID = 2;
const PASSWORD = 'hash-only line: correct horse battery';

/** Without `threadPool`, the libuv comparison is left out (the re-measurement at the end of a run). */
export async function measureHashOnly(params: Argon2Params, options: { seconds: number; threadPool?: number }): Promise<HashOnlyLine> {
  const phc = await hash(PASSWORD, { algorithm: ARGON2ID, ...params });
  const cores = availableParallelism();
  const pool = new HashingPool(cores);
  pool.start();
  const poolVerify = () => pool.verifyArgon2(phc, PASSWORD);
  try {
    // First calls pay for thread start-up and page faults.
    for (let i = 0; i < 2 * cores; i++) await Promise.all([poolVerify(), verify(phc, PASSWORD)]);

    const single: number[] = [];
    const singleUntil = performance.now() + options.seconds * 500;
    while (single.length < 5 || performance.now() < singleUntil) {
      const started = performance.now();
      await poolVerify();
      single.push(performance.now() - started);
    }
    const singleMs = single.reduce((sum, ms) => sum + ms, 0) / single.length;

    const flatOut = await verifyFlatOut(poolVerify, cores, options.seconds);
    // For comparison: the binding's async verify on libuv's pool, as many at once as it has threads.
    const threads = options.threadPool;
    const atThreadPool = threads ? await verifyFlatOut(() => verify(phc, PASSWORD), threads, options.seconds) : undefined;

    return {
      concurrency: cores,
      singleMs,
      singleMedianMs: median(single),
      idealPerSec: (cores * 1000) / singleMs,
      perSec: flatOut.perSec,
      cpuMsPerVerification: flatOut.cpuMsPerVerification,
      otherCpuCores: flatOut.otherCpuCores,
      atThreadPool: threads && atThreadPool ? { threads, perSec: atThreadPool.perSec } : undefined,
    };
  } finally {
    await pool.close();
  }
}

async function verifyFlatOut(
  verifyOnce: () => Promise<boolean>,
  concurrency: number,
  seconds: number,
): Promise<{ perSec: number; cpuMsPerVerification: number; otherCpuCores: number }> {
  let done = 0;
  const machineBefore = machineBusyMs();
  const cpuBefore = process.cpuUsage();
  const started = performance.now();
  const until = started + seconds * 1000;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < until) {
        await verifyOnce();
        done++;
      }
    }),
  );
  const elapsedMs = performance.now() - started;
  const cpu = process.cpuUsage(cpuBefore);
  const cpuMs = (cpu.user + cpu.system) / 1000;
  return {
    perSec: (done * 1000) / elapsedMs,
    cpuMsPerVerification: cpuMs / done,
    otherCpuCores: Math.max(0, (machineBusyMs() - machineBefore - cpuMs) / elapsedMs),
  };
}

/** Busy time of all cores, from the kernel's counters: with this process's own, what others used. */
function machineBusyMs(): number {
  return cpus().reduce((sum, cpu) => sum + cpu.times.user + cpu.times.nice + cpu.times.sys + cpu.times.irq, 0);
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}
