/**
 * The pool on its own: results and errors as the bindings give them, requests beyond the workers
 * answered in order, a dead worker replaced, niced worker threads (Linux), and a process that
 * stays alive for work in progress but not for idle workers.
 */
import { hashSync as bcryptHashSync } from '@node-rs/bcrypt';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { HashingAbandoned, HashingPool, HashingSaturated, HashingUnavailable } from './hashing-pool';

const PASSWORD = 'correct horse battery';
const CLIENT = '192.0.2.1';
const ARGON2ID = 2;
const FAST = { algorithm: ARGON2ID, memoryCost: 1024, timeCost: 1, parallelism: 1 };
/** A hash long enough (hundreds of ms) to still be running when a test intervenes. */
const SLOW = { algorithm: ARGON2ID, memoryCost: 65536, timeCost: 8, parallelism: 1 };

/** A thread's nice value: field 19 of its stat line (counted after the parenthesised name, which may hold spaces). */
function niceOf(tid: number): number {
  const stat = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
  return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19 - 3]);
}

describe('HashingPool', () => {
  const pools: HashingPool[] = [];
  const newPool = (size: number, maxQueued?: number) => {
    const pool = new HashingPool(size, maxQueued);
    pools.push(pool);
    return pool;
  };

  afterAll(() => Promise.all(pools.map((pool) => pool.close())));

  it('hashes with argon2id and verifies the right password only', async () => {
    const pool = newPool(2);
    const stored = await pool.hash(PASSWORD, FAST);
    expect(stored).toMatch(/^\$argon2id\$v=19\$m=1024,t=1,p=1\$/);
    expect(await pool.verifyArgon2(stored, PASSWORD)).toBe(true);
    expect(await pool.verifyArgon2(stored, `${PASSWORD}!`)).toBe(false);
  });

  it('verifies a bcrypt hash, password second as for argon2', async () => {
    const pool = newPool(1);
    const stored = bcryptHashSync(PASSWORD, 4);
    expect(await pool.verifyBcrypt(stored, PASSWORD)).toBe(true);
    expect(await pool.verifyBcrypt(stored, 'wrong password')).toBe(false);
  });

  it('rejects what the binding throws on, and the worker goes on serving', async () => {
    const pool = newPool(1);
    const stored = await pool.hash(PASSWORD, FAST);
    await expect(pool.verifyArgon2(stored.slice(0, 30), PASSWORD)).rejects.toThrow('Decoding failed');
    await expect(pool.hash(PASSWORD, { ...FAST, memoryCost: 1 })).rejects.toThrow();
    expect(await pool.verifyBcrypt('$2b$04$', PASSWORD)).toBe(false); // the bcrypt binding answers false, not an error
    expect(await pool.verifyArgon2(stored, PASSWORD)).toBe(true);
    expect(pool.inspect()).toHaveLength(1);
  });

  it('answers requests beyond its one worker in the order they came', async () => {
    const pool = newPool(1);
    const stored = await pool.hash(PASSWORD, FAST);
    const answered: number[] = [];
    const requests = Array.from({ length: 8 }, (_, i) => pool.verifyArgon2(stored, i % 2 ? PASSWORD : 'wrong').then((match) => answered.push(i) && match));
    expect(await Promise.all(requests)).toEqual([false, true, false, true, false, true, false, true]);
    expect(answered).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
  });

  it('drops a queued verification whose asker has gone by its turn, unhashed, and goes on with the next', async () => {
    const pool = newPool(1);
    const stored = await pool.hash(PASSWORD, FAST);
    let gone = false;
    let asked = 0;
    const abandoned = () => {
      asked++;
      return gone;
    };
    const running = pool.hash(PASSWORD, SLOW);
    const dropped = pool.verifyArgon2(stored, PASSWORD, { network: CLIENT, gone: abandoned });
    const next = pool.verifyArgon2(stored, PASSWORD, { network: CLIENT, gone: () => false });
    expect(pool.load()).toEqual({ running: 1, queued: 2 });
    gone = true; // after it was queued: what counts is whether it is gone when its turn comes
    await running;
    await expect(dropped).rejects.toBeInstanceOf(HashingAbandoned);
    expect(asked).toBe(1); // at its turn only
    await expect(next).resolves.toBe(true);
    expect(pool.load()).toEqual({ running: 0, queued: 0 });
  });

  it('refuses a job at once when its queue is full, and takes jobs again once there is room', async () => {
    const pool = newPool(1, 1);
    const stored = await pool.hash(PASSWORD, FAST);
    const running = pool.hash(PASSWORD, SLOW);
    const queued = pool.verifyArgon2(stored, PASSWORD);
    await expect(pool.verifyArgon2(stored, PASSWORD)).rejects.toBeInstanceOf(HashingSaturated);
    await expect(pool.hash(PASSWORD, FAST)).rejects.toThrow('The hashing queue is full (1 waiting)');
    expect(pool.load()).toEqual({ running: 1, queued: 1 });
    await running;
    await expect(queued).resolves.toBe(true);
    await expect(pool.verifyArgon2(stored, PASSWORD)).resolves.toBe(true);
  });

  it('makes room in a full queue by dropping the jobs whose askers have gone', async () => {
    const pool = newPool(1, 1);
    const stored = await pool.hash(PASSWORD, FAST);
    let gone = false;
    const running = pool.hash(PASSWORD, SLOW);
    const hungUp = pool.verifyArgon2(stored, PASSWORD, { network: CLIENT, gone: () => gone });
    gone = true;
    const next = pool.verifyArgon2(stored, PASSWORD); // the queue is full, of a job nobody waits for
    await expect(hungUp).rejects.toBeInstanceOf(HashingAbandoned);
    expect(pool.load()).toEqual({ running: 1, queued: 1 });
    await running;
    await expect(next).resolves.toBe(true);
  });

  it("takes its clients in turn: each client's jobs in order, but none waits behind all of another's", async () => {
    const pool = newPool(1);
    const stored = await pool.hash(PASSWORD, FAST);
    const running = pool.hash(PASSWORD, SLOW);
    const answered: string[] = [];
    const verify = (ip: string, label: string) => pool.verifyArgon2(stored, PASSWORD, { network: ip }).then(() => answered.push(label));
    const requests = [verify('a', 'a1'), verify('a', 'a2'), verify('a', 'a3'), verify('b', 'b1'), pool.hash(PASSWORD, FAST).then(() => answered.push('unnamed'))];
    await running;
    await Promise.all(requests);
    expect(answered).toEqual(['a1', 'b1', 'unnamed', 'a2', 'a3']);
  });

  it("gives a full queue's place to a client with fewer jobs waiting, refusing the busiest client's newest", async () => {
    const pool = newPool(1, 3);
    const stored = await pool.hash(PASSWORD, FAST);
    const running = pool.hash(PASSWORD, SLOW);
    const outcome = (ip: string) =>
      pool.verifyArgon2(stored, PASSWORD, { network: ip }).then(
        () => 'verified',
        (error: Error) => (error instanceof HashingSaturated ? 'refused' : error.message),
      );
    const flood = [outcome('a'), outcome('a'), outcome('a')]; // the queue is full of one client's jobs
    const first = outcome('b'); // takes the place of a's newest
    const second = outcome('b'); // b would then have as many as a: refused itself
    const third = outcome('c'); // a still has the most: its newest waiting goes
    expect(pool.load()).toEqual({ running: 1, queued: 3 });
    await running;
    expect(await Promise.all([...flood, first, second, third])).toEqual(['verified', 'refused', 'refused', 'verified', 'refused', 'verified']);
  });

  it('counts what waits right when a full queue first drops hung-up jobs, then gives a place away', async () => {
    const pool = newPool(1, 4);
    const stored = await pool.hash(PASSWORD, FAST);
    const running = pool.hash(PASSWORD, SLOW);
    let gone = false;
    const outcome = (promise: Promise<unknown>) =>
      promise.then(
        () => 'verified',
        (error: Error) => error.name,
      );
    const flood = [1, 2, 3].map(() => outcome(pool.verifyArgon2(stored, PASSWORD, { network: 'a' })));
    const hungUp = outcome(pool.verifyArgon2(stored, PASSWORD, { network: 'b', gone: () => gone }));
    gone = true;
    const newcomer = outcome(pool.hash(PASSWORD, FAST, { network: 'c' })); // b's job is dropped: room without displacing
    const another = outcome(pool.verifyArgon2(stored, PASSWORD, { network: 'd' })); // full again: a's newest goes
    expect(pool.load()).toEqual({ running: 1, queued: 4 });
    await running;
    expect(await Promise.all([...flood, hungUp, newcomer, another])).toEqual([
      'verified',
      'verified',
      'HashingSaturated',
      'HashingAbandoned',
      'verified',
      'verified',
    ]);
    expect(pool.load()).toEqual({ running: 0, queued: 0 });
  });

  it('refuses the jobs of every client once closed', async () => {
    const pool = new HashingPool(1);
    const stored = await pool.hash(PASSWORD, FAST);
    const running = pool.hash(PASSWORD, SLOW).catch((error: Error) => error);
    const waiting = ['a', 'a', 'b', 'c'].map((ip) => pool.verifyArgon2(stored, PASSWORD, { network: ip }).catch((error: Error) => error));
    await pool.close();
    for (const refused of await Promise.all([running, ...waiting])) expect(refused).toBeInstanceOf(HashingUnavailable);
    expect(pool.load()).toEqual({ running: 0, queued: 0 });
  });

  it('is first come first served, and refuses the newest when full, while all jobs are of one client', async () => {
    const pool = newPool(1, 2);
    const stored = await pool.hash(PASSWORD, FAST);
    const running = pool.hash(PASSWORD, SLOW);
    const answered: number[] = [];
    const queued = [0, 1].map((i) => pool.verifyArgon2(stored, PASSWORD, { network: 'proxy' }).then(() => answered.push(i)));
    await expect(pool.verifyArgon2(stored, PASSWORD, { network: 'proxy' })).rejects.toBeInstanceOf(HashingSaturated);
    await running;
    await Promise.all(queued);
    expect(answered).toEqual([0, 1]);
  });

  it('runs a verification whose asker is still there as any other', async () => {
    const pool = newPool(1);
    const stored = await pool.hash(PASSWORD, FAST);
    await expect(pool.verifyArgon2(stored, PASSWORD, { network: CLIENT, gone: () => false })).resolves.toBe(true);
    await expect(pool.verifyBcrypt(bcryptHashSync(PASSWORD, 4), PASSWORD, { network: CLIENT, gone: () => false })).resolves.toBe(true);
    await expect(pool.verifyBcrypt(bcryptHashSync(PASSWORD, 4), PASSWORD, { network: CLIENT, gone: () => true })).rejects.toBeInstanceOf(HashingAbandoned);
  });

  it('answers every request beyond its size, with never more workers than its size', async () => {
    const pool = newPool(2);
    const passwords = Array.from({ length: 12 }, (_, i) => `password ${i}`);
    let most = 0;
    const hashes = await Promise.all(
      passwords.map((password) =>
        pool.hash(password, FAST).finally(() => {
          most = Math.max(most, pool.inspect().length);
        }),
      ),
    );
    expect(new Set(hashes).size).toBe(12);
    const checks = await Promise.all(hashes.map((stored, i) => pool.verifyArgon2(stored, passwords[i])));
    expect(checks.every(Boolean)).toBe(true);
    expect(most).toBeLessThanOrEqual(2);
  });

  it('rejects the request of a worker that dies and replaces the worker', async () => {
    const pool = newPool(1);
    await pool.hash(PASSWORD, FAST);
    const [dying] = pool.inspect();
    const lost = pool.hash(PASSWORD, SLOW);
    const queued = pool.hash(PASSWORD, FAST);
    expect(pool.inspect()[0].busy).toBe(true);
    await dying.thread.terminate();
    await expect(lost).rejects.toThrow(/worker stopped/);
    await expect(lost).rejects.toBeInstanceOf(HashingUnavailable);
    await expect(queued).resolves.toMatch(/^\$argon2id\$/);
    const [replacement] = pool.inspect();
    expect(replacement.thread.threadId).not.toBe(dying.thread.threadId);
    expect(pool.inspect()).toHaveLength(1);
  });

  it('refuses a request, without throwing, when no worker thread can start', async () => {
    const pool = newPool(1);
    // As `new Worker` fails when the process is out of threads or memory.
    (pool as unknown as { spawn: () => never }).spawn = () => {
      throw new Error('EAGAIN');
    };
    await expect(pool.hash(PASSWORD, FAST)).rejects.toThrow(/No hashing worker could start: EAGAIN/);
    await expect(pool.hash(PASSWORD, FAST)).rejects.toBeInstanceOf(HashingUnavailable);
  });

  it('refuses queued and new requests once closed, and stops its workers', async () => {
    const pool = newPool(1);
    pool.start();
    const outcomes = Promise.allSettled([pool.hash(PASSWORD, SLOW), pool.hash(PASSWORD, FAST)]);
    await pool.close();
    const [running, queued] = await outcomes;
    expect(running.status).toBe('rejected');
    expect(queued).toEqual({ status: 'rejected', reason: expect.objectContaining({ message: 'The hashing pool is closed' }) });
    await expect(pool.hash(PASSWORD, FAST)).rejects.toThrow(/closed/);
    expect(pool.inspect()).toHaveLength(0);
  });

  (process.platform === 'linux' ? it : it.skip)('runs its workers at nice 10 and leaves the main thread as it was', async () => {
    const pool = newPool(2);
    pool.start();
    await Promise.all([pool.hash(PASSWORD, FAST), pool.hash(PASSWORD, FAST)]);
    const tids = pool.inspect().map((worker) => worker.tid);
    expect(tids).toEqual([expect.any(Number), expect.any(Number)]);
    expect(tids.map((tid) => niceOf(tid!))).toEqual([10, 10]);
    expect(niceOf(process.pid)).toBe(0);
  });

  it('keeps the process alive for work in progress but not for idle workers', async () => {
    const script = [
      `const { HashingPool } = require(${JSON.stringify(join(__dirname, 'hashing-pool.ts'))});`,
      'const pool = new HashingPool(2);',
      'pool.start();',
      `pool.hash('x', ${JSON.stringify(FAST)}).then((hash) => console.log(hash));`,
    ].join('\n');
    const { code, stdout } = await new Promise<{ code: number | null; stdout: string }>((resolve) => {
      const child = execFile(process.execPath, ['-r', '@swc-node/register', '-e', script], { timeout: 20_000 }, (error, out) =>
        resolve({ code: error ? (child.exitCode ?? -1) : 0, stdout: out }),
      );
    });
    expect({ code, stdout }).toEqual({ code: 0, stdout: expect.stringMatching(/^\$argon2id\$/) });
  });
});
