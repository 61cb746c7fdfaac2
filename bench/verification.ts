/**
 * The auth-client row: libs/auth-client verifying access tokens the running service issued, in
 * this process (the runner's, not the service's: the service is idle meanwhile), one thread, as
 * another service would on every request. Three loops take turns in short slices over the same
 * window, so that a busy machine slows them alike and their ratios hold:
 *
 * - `crypto.verify('sha256', data, publicKey, signature)` alone, on the tokens' signed parts and
 *   signatures decoded beforehand, with the key built from the service's JWKS: the floor, what
 *   Node's RSA costs with no JWT work around it;
 * - `TokenVerifier.verifySync`: every check of a token (the guard's path);
 * - `await TokenVerifier.verify`: the same through a promise.
 *
 * Each is reported per second of the window (wall) and per CPU-second of this process ("per
 * core": what one core does, whatever else the machine was doing).
 */
import { createPublicKey, verify as verifySignature, type JsonWebKey, type KeyObject } from 'node:crypto';
import { cpus } from 'node:os';
import { TokenRejected, TokenVerifier } from '../libs/auth-client/src';

export interface VerificationRate {
  /** Verifications per second of the time this loop ran. */
  readonly perSec: number;
  /** Verifications per CPU-second of this process while this loop ran. */
  readonly perCoreSec: number;
  /** CPU time per verification, in µs. */
  readonly cpuUsEach: number;
  readonly count: number;
}

export interface VerificationResult {
  readonly tokens: number;
  readonly warmupSeconds: number;
  /** The whole window; each loop ran for about a third of it. */
  readonly windowSeconds: number;
  readonly sliceMs: number;
  readonly raw: VerificationRate;
  readonly sync: VerificationRate;
  readonly async: VerificationRate;
  /** Tokens a verifier refused during the window (there should be none). */
  readonly rejected: Record<string, number>;
  /** Cores busy with other processes during the window (the service is idle; anything else is noise). */
  readonly otherCpuCores: number;
}

/** Long enough to dwarf the cost of reading the clocks, short enough to interleave finely. */
const SLICE_MS = 20;
/** Verifications between two looks at the clock. */
const BATCH = 16;

interface Loop {
  readonly name: 'raw' | 'sync' | 'async';
  count: number;
  cpuMs: number;
  wallMs: number;
}

export async function measureVerification(
  service: { baseUrl: string; appId: string; issuer: string },
  tokens: readonly string[],
  timing: { warmupSeconds: number; windowSeconds: number },
): Promise<VerificationResult> {
  const verifier = new TokenVerifier({ baseUrl: service.baseUrl, issuer: service.issuer });
  await verifier.start();
  verifier.stop(); // no revocation polling during the window: it would run in the middle of a slice

  const keys = await jwksKeys(service.baseUrl);
  const signed = tokens.map((token) => {
    const [header, payload, signature] = token.split('.');
    const { kid } = JSON.parse(Buffer.from(header, 'base64url').toString('utf8')) as { kid: string };
    const key = keys.get(kid);
    if (!key) throw new Error(`a token of the service names kid ${kid}, which its JWKS does not have`);
    return { data: Buffer.from(`${header}.${payload}`), signature: Buffer.from(signature, 'base64url'), key };
  });
  for (const token of tokens) verifier.verifySync(token, service.appId); // throws (stops the run) if the tokens are unusable

  const rejected: Record<string, number> = {};
  let counting = false;
  const reject = (error: unknown): void => {
    if (!(error instanceof TokenRejected)) throw error;
    if (counting) rejected[error.message] = (rejected[error.message] ?? 0) + 1;
  };
  let next = 0;
  const step = {
    raw: (): void => {
      const token = signed[next++ % signed.length];
      if (!verifySignature('sha256', token.data, token.key, token.signature)) {
        reject(new TokenRejected('crypto.verify: signature is invalid'));
      }
    },
    sync: (): void => {
      try {
        verifier.verifySync(tokens[next++ % tokens.length], service.appId);
      } catch (error) {
        reject(error);
      }
    },
  };
  const loops: Loop[] = (['raw', 'sync', 'async'] as const).map((name) => ({ name, count: 0, cpuMs: 0, wallMs: 0 }));
  const slice = async (loop: Loop): Promise<void> => {
    const cpuBefore = process.cpuUsage();
    const started = performance.now();
    const until = started + SLICE_MS;
    let count = 0;
    if (loop.name === 'async') {
      while (performance.now() < until) {
        for (let i = 0; i < BATCH; i++, count++) {
          try {
            await verifier.verify(tokens[next++ % tokens.length], service.appId);
          } catch (error) {
            reject(error);
          }
        }
      }
    } else {
      const run = step[loop.name];
      while (performance.now() < until) for (let i = 0; i < BATCH; i++, count++) run();
    }
    const cpu = process.cpuUsage(cpuBefore);
    loop.count += count;
    loop.cpuMs += (cpu.user + cpu.system) / 1000;
    loop.wallMs += performance.now() - started;
  };

  // Warm-up: every loop compiled and its caches (header, key) filled before anything counts.
  const warmupUntil = performance.now() + timing.warmupSeconds * 1000;
  while (performance.now() < warmupUntil) for (const loop of loops) await slice(loop);
  for (const loop of loops) Object.assign(loop, { count: 0, cpuMs: 0, wallMs: 0 });

  counting = true;
  const machineBefore = machineBusyMs();
  const cpuBefore = process.cpuUsage();
  const started = performance.now();
  const until = started + timing.windowSeconds * 1000;
  while (performance.now() < until) for (const loop of loops) await slice(loop);
  const elapsedMs = performance.now() - started;
  const ownCpu = process.cpuUsage(cpuBefore);
  const otherMs = machineBusyMs() - machineBefore - (ownCpu.user + ownCpu.system) / 1000;

  const rate = (name: Loop['name']): VerificationRate => {
    const loop = loops.find((candidate) => candidate.name === name)!;
    return {
      perSec: (loop.count * 1000) / loop.wallMs,
      perCoreSec: (loop.count * 1000) / loop.cpuMs,
      cpuUsEach: (loop.cpuMs * 1000) / loop.count,
      count: loop.count,
    };
  };
  return {
    tokens: tokens.length,
    warmupSeconds: timing.warmupSeconds,
    windowSeconds: elapsedMs / 1000,
    sliceMs: SLICE_MS,
    raw: rate('raw'),
    sync: rate('sync'),
    async: rate('async'),
    rejected,
    otherCpuCores: Math.max(0, otherMs / elapsedMs),
  };
}

/** The service's published keys, by kid, as KeyObjects (as the verifier builds them). */
async function jwksKeys(baseUrl: string): Promise<Map<string, KeyObject>> {
  const response = await fetch(`${baseUrl}/.well-known/jwks.json`);
  if (!response.ok) throw new Error(`GET /.well-known/jwks.json answered HTTP ${response.status}`);
  const { keys } = (await response.json()) as { keys: Array<JsonWebKey & { kid: string }> };
  return new Map(keys.map((jwk) => [jwk.kid, createPublicKey({ key: jwk, format: 'jwk' })]));
}

/** Busy time of all cores, from the kernel's counters. */
function machineBusyMs(): number {
  return cpus().reduce((sum, cpu) => sum + cpu.times.user + cpu.times.nice + cpu.times.sys + cpu.times.irq, 0);
}
