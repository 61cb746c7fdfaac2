/**
 * The auth-client row: libs/auth-client verifying access tokens the running service issued, in
 * this process (the runner's, not the service's: the service is idle meanwhile), one thread, as
 * another service would on every request. Three loops take turns in short slices over the same
 * window, so that a busy machine slows them alike and their ratios hold:
 *
 * - `crypto.verify('sha256', data, publicKey, signature)` alone, on the tokens' signed parts and
 *   signatures decoded beforehand, with the key built from the service's JWKS: what Node's RSA
 *   check costs with no JWT work around it (libs/jwt checks the same signature its own way, a
 *   little cheaper: rsa-sha256-signature.ts);
 * - `verifySync` on new tokens: a verifier whose cache holds half the tokens the loop cycles
 *   through, so every call misses it, verifies the token and evicts the oldest entry (the cost of
 *   a token seen for the first time, the cache's own included);
 * - `verifySync` on repeated tokens: a verifier with the default cache, which has seen them all.
 *
 * Each call on repeated tokens gets a string made from the token's bytes just then, as a request
 * header would be, so that nothing a previous call learnt of its string (V8 keeps a string's hash)
 * helps it; making that string is counted in its cost. New tokens are the service's own strings
 * (the verifier keeps nothing of a string it has not cached), so their loop counts the verifier's
 * work only, as the crypto.verify loop counts Node's. Each loop is reported per second of the
 * window (wall) and per CPU-second of this process ("per core": what one core does, whatever
 * else the machine was doing).
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
  /** verifySync on tokens it has not cached. */
  readonly cold: VerificationRate;
  /** verifySync on tokens it has cached. */
  readonly repeated: VerificationRate;
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
  readonly name: 'raw' | 'cold' | 'repeated';
  count: number;
  cpuMs: number;
  wallMs: number;
}

export async function measureVerification(
  service: { baseUrl: string; appId: string; adminToken: string; issuer: string },
  tokens: readonly string[],
  timing: { warmupSeconds: number; windowSeconds: number },
): Promise<VerificationResult> {
  const verifierWithCache = async (verifiedTokenCacheSize?: number): Promise<TokenVerifier> => {
    const verifier = new TokenVerifier({
      baseUrl: service.baseUrl,
      issuer: service.issuer,
      apps: [{ appId: service.appId, token: service.adminToken }],
      verifiedTokenCacheSize,
      // Its polling is stopped below (it would run in the middle of a slice): how current its revocations are is not measured here.
      maxRevocationStalenessMs: Number.MAX_SAFE_INTEGER,
    });
    await verifier.start();
    verifier.stop();
    return verifier;
  };
  const cold = await verifierWithCache(Math.floor(tokens.length / 2));
  const repeated = await verifierWithCache();

  const keys = await jwksKeys(service.baseUrl);
  const signed = tokens.map((token) => {
    const [header, payload, signature] = token.split('.');
    const { kid } = JSON.parse(Buffer.from(header, 'base64url').toString('utf8')) as { kid: string };
    const key = keys.get(kid);
    if (!key) throw new Error(`a token of the service names kid ${kid}, which its JWKS does not have`);
    return { data: Buffer.from(`${header}.${payload}`), signature: Buffer.from(signature, 'base64url'), key };
  });
  // A repeated token as a request header arrives: a string made from its bytes then.
  const bytes = tokens.map((token) => Buffer.from(token, 'latin1'));
  for (const token of tokens) repeated.verifySync(token, service.appId); // throws (stops the run) if the tokens are unusable

  const rejected: Record<string, number> = {};
  let counting = false;
  const reject = (error: unknown): void => {
    if (!(error instanceof TokenRejected)) throw error;
    if (counting) rejected[error.message] = (rejected[error.message] ?? 0) + 1;
  };
  let next = 0;
  const verifying = (verifier: TokenVerifier, freshStrings: boolean) => (): void => {
    const i = next++ % tokens.length;
    try {
      verifier.verifySync(freshStrings ? bytes[i].toString('latin1') : tokens[i], service.appId);
    } catch (error) {
      reject(error);
    }
  };
  const step = {
    raw: (): void => {
      const token = signed[next++ % signed.length];
      if (!verifySignature('sha256', token.data, token.key, token.signature)) {
        reject(new TokenRejected('crypto.verify: signature is invalid'));
      }
    },
    cold: verifying(cold, false),
    repeated: verifying(repeated, true),
  };
  const loops: Loop[] = (['raw', 'cold', 'repeated'] as const).map((name) => ({ name, count: 0, cpuMs: 0, wallMs: 0 }));
  const slice = (loop: Loop): void => {
    const cpuBefore = process.cpuUsage();
    const started = performance.now();
    const until = started + SLICE_MS;
    let count = 0;
    const run = step[loop.name];
    while (performance.now() < until) for (let i = 0; i < BATCH; i++, count++) run();
    const cpu = process.cpuUsage(cpuBefore);
    loop.count += count;
    loop.cpuMs += (cpu.user + cpu.system) / 1000;
    loop.wallMs += performance.now() - started;
  };

  // Warm-up: every loop compiled and its caches (header, key, verified tokens) filled before anything counts.
  const warmupUntil = performance.now() + timing.warmupSeconds * 1000;
  while (performance.now() < warmupUntil) for (const loop of loops) slice(loop);
  for (const loop of loops) Object.assign(loop, { count: 0, cpuMs: 0, wallMs: 0 });

  counting = true;
  const machineBefore = machineBusyMs();
  const cpuBefore = process.cpuUsage();
  const started = performance.now();
  const until = started + timing.windowSeconds * 1000;
  while (performance.now() < until) for (const loop of loops) slice(loop);
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
    cold: rate('cold'),
    repeated: rate('repeated'),
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
