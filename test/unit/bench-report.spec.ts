/**
 * The benchmark's verdicts: a share of the hash-only line is only as good as the line, so a line
 * that was busy, or that moved between the start and the end of the run, marks the targets that
 * read it as skewed instead of letting them pass or fail on a machine that changed speed. The
 * token-verification targets are ratios to another figure of the same run.
 */
import { checkTargets, lineAgainLine, noiseLines, type RowResult } from '../../bench/report';
import type { HashOnlyLine } from '../../bench/protocol';

const line = (perSec: number, otherCpuCores = 0): HashOnlyLine => ({
  concurrency: 2,
  singleMs: 10,
  singleMedianMs: 10,
  idealPerSec: 200,
  perSec,
  cpuMsPerVerification: 11.5,
  otherCpuCores,
  atThreadPool: undefined,
});

const row = (concurrency: number, perSec: number, p50Ms: number): RowResult => ({
  label: 'POST /token/user',
  route: '/token/user',
  kind: 'login',
  concurrency,
  perSec,
  shareOfHashOnly: perSec / 170,
  p50Ms,
  p99Ms: p50Ms * 1.2,
  meanMs: p50Ms,
  completed: 1000,
  errors: {},
  warmupSeconds: 1,
  windowSeconds: 5,
  eventLoopDelayP50Ms: 1,
  eventLoopDelayP99Ms: 2,
  eventLoopDelayMaxMs: 3,
  eventLoopUtilization: 0.3,
  serviceCpuCores: 1.8,
  cpuMsPerRequest: 13,
  loopCpuMsPerRequest: 2,
  loopWaitingShare: 0.05,
  otherCpuCores: 0,
});

const rows = [row(1, 70, 13), row(16, 160, 100), row(64, 160, 400)];
const shareTargets = (checks: ReturnType<typeof checkTargets>) => checks.filter((check) => /c=64|c=1 /.test(check.target));

describe('the benchmark report', () => {
  it('trusts the share targets when the line held its speed through the run', () => {
    const checks = shareTargets(checkTargets(rows, line(170), { hashOnlyAtEnd: line(165) }));
    expect(checks.map((check) => [check.met, check.skewed])).toEqual([
      [true, false], // 160/s is 94% of 170/s
      [false, false], // p50 13 ms against a 10 ms verification: 3 ms over
    ]);
    expect(noiseLines(rows, line(170), line(165))).toEqual([]);
  });

  it('marks them skewed when the line at the end is more than 10% away from the line at the start', () => {
    for (const end of [line(150), line(190)]) {
      expect(shareTargets(checkTargets(rows, line(170), { hashOnlyAtEnd: end })).map((check) => check.skewed)).toEqual([true, true]);
      expect(noiseLines(rows, line(170), end)[0]).toMatch(/^ {2}every share: the hash-only line was [+−]1\d% at the end of the run/);
    }
    expect(lineAgainLine(line(170), line(150))).toBe(
      'hash-only line measured again: 150.0/s against 170.0/s at the start (−11.8%: the machine changed speed during the run, every share is skewed)',
    );
  });

  it('does not read a change of speed into a line at the end that other processes slowed down', () => {
    expect(shareTargets(checkTargets(rows, line(170), { hashOnlyAtEnd: line(120, 0.6) })).map((check) => check.skewed)).toEqual([false, false]);
    expect(lineAgainLine(line(170), line(120, 0.6))).toBe(
      'hash-only line measured again: 120.0/s against 170.0/s at the start (−29.4%: other processes used 0.60 cores meanwhile, so it says nothing)',
    );
  });

  it('marks them skewed when other processes kept the machine busy while the line was measured', () => {
    expect(shareTargets(checkTargets(rows, line(170, 0.5))).map((check) => check.skewed)).toEqual([true, true]);
  });

  it('adds the two idle database round trips to the c=1 verdict', () => {
    const [, atOne] = shareTargets(checkTargets(rows, line(170), { roundTrip: { backToBackMs: 0.1, afterIdleMs: 0.45, idleMs: 10 } }));
    expect(atOne.detail).toBe('p50 13.0 ms vs median verification 10.0 ms (+3.0 ms); its two database round trips after idle alone take 0.9 ms');
  });

  it('judges the auth client against crypto.verify, and introspection against the pipeline row, of the same run', () => {
    const rate = (perCoreSec: number) => ({ perSec: perCoreSec, perCoreSec, cpuUsEach: 1e6 / perCoreSec, count: 1000 });
    const verification = (cold: number, repeated: number) => ({
      ...row(1, repeated, NaN),
      kind: 'auth-client' as const,
      verification: { tokens: 16, warmupSeconds: 1, windowSeconds: 6, sliceMs: 20, raw: rate(40_000), cold: rate(cold), repeated: rate(repeated), rejected: {}, otherCpuCores: 0 },
    });
    const http = (kind: 'pipeline' | 'introspection', perSec: number) => ({ ...row(16, perSec, 5), kind, cpuMsPerRequest: 1000 / perSec });
    const verdicts = (extra: RowResult[]) =>
      checkTargets(extra, line(170))
        .filter((check) => /auth-client|introspect/.test(check.target))
        .map((check) => [check.target, check.met]);

    expect(verdicts([verification(36_000, 400_000), http('pipeline', 4000), http('introspection', 2800)])).toEqual([
      ['auth-client, repeated tokens ≥ 10 × crypto.verify (per core, same window)', true],
      ['auth-client, new tokens ≥ 90% of crypto.verify (per core, same window)', true],
      ['POST /token/introspect ≥ 70% of the pipeline row', true],
    ]);
    expect(verdicts([verification(35_900, 399_000), http('pipeline', 4000), http('introspection', 2790)]).map(([, met]) => met)).toEqual([false, false, false]);
    // Without the pipeline row in the run there is nothing to compare introspection with.
    expect(verdicts([http('introspection', 2800)])).toEqual([]);
  });
});
