/**
 * The messages between the benchmark runner (bench/run.ts, the load generator) and the service
 * process it forks (bench/server.ts). The service runs in its own process so that autocannon
 * never takes CPU from the event loop or the argon2 threads it measures; everything the runner
 * needs to know from inside the service (its port, the users it provisioned, the hash-only
 * ceiling, event-loop delay, CPU time) comes back over this IPC channel.
 */
import type { ChildProcess } from 'node:child_process';

export interface Argon2Params {
  /** KiB. */
  readonly memoryCost: number;
  readonly timeCost: number;
  readonly parallelism: number;
}

/** One user the service provisioned; every identifier it can log in with. */
export interface BenchUser {
  readonly id: number;
  readonly username: string;
  readonly email: string;
  /** National form, read in the app's default region by POST /token/login. */
  readonly mobile: string;
}

export interface HashOnlyLine {
  /** How many verifications ran at once (one per core). */
  readonly concurrency: number;
  /** Mean time of one verification with nothing else running, sequential, in ms. */
  readonly singleMs: number;
  readonly singleMedianMs: number;
  /** cores × 1000 / singleMs: what flat-out would be if cores did not slow each other down. */
  readonly idealPerSec: number;
  /** Measured: verifications per second with `concurrency` running at once, flat out. */
  readonly perSec: number;
  /** Process CPU time per verification during the flat-out run, in ms. */
  readonly cpuMsPerVerification: number;
  /** Cores other processes kept busy during the flat-out run (the line is low when they did). */
  readonly otherCpuCores: number;
  /**
   * The same flat-out run with as many verifications at once as libuv has threads: what a service
   * gets that hands every verification to the pool at once, more threads than cores.
   */
  readonly atThreadPool: { readonly threads: number; readonly perSec: number } | undefined;
}

/**
 * One database round trip of the service (a prepared `SELECT 1` through its pool), median, back
 * to back and after the database connection has been idle as long as one verification: the gap a
 * login's write follows, and at c = 1 its look-up too. On a VM, waking an idle backend's process
 * can cost several times the round trip itself: the floor under the c = 1 target.
 */
export interface DatabaseRoundTrip {
  readonly backToBackMs: number;
  readonly afterIdleMs: number;
  readonly idleMs: number;
}

export interface ServiceReady {
  readonly port: number;
  readonly appId: string;
  /** An admin access-token of the app, for POST /token/introspect. */
  readonly adminToken: string;
  /** The service's TOKEN_ISSUER, which the in-process verifier expects. */
  readonly tokenIssuer: string;
  readonly users: BenchUser[];
  readonly password: string;
  readonly database: { readonly kind: 'server' | 'embedded'; readonly version: string };
  readonly argon2: Argon2Params;
  readonly dbPoolSize: number;
  readonly threadPoolSize: number;
  readonly provisionMs: number;
  readonly roundTrip: DatabaseRoundTrip;
}

/** What the service measured between `window-start` and `window-stop`. */
export interface ServiceWindow {
  /** Event-loop delay (timer lateness beyond the 1 ms sampling interval), in ms. */
  readonly eventLoopDelayP50Ms: number;
  readonly eventLoopDelayP99Ms: number;
  readonly eventLoopDelayMaxMs: number;
  /** Share of the window the event loop spent running callbacks rather than waiting for I/O. */
  readonly eventLoopUtilization: number;
  /** CPU time of the whole service process (event loop, libuv threads, embedded database), in ms. */
  readonly cpuMs: number;
  /**
   * The event-loop thread alone (Linux: /proc/self/task/<pid>/schedstat; NaN elsewhere): time it
   * ran on a core, and time it was ready to run but waited for one (taken by argon2 threads or by
   * other processes), in ms.
   */
  readonly loopThreadCpuMs: number;
  readonly loopThreadWaitMs: number;
  readonly elapsedMs: number;
}

export type RunnerMessage =
  | { readonly type: 'window-start' }
  | { readonly type: 'window-stop' }
  /** Wait until requests left over by the previous row have finished (the process is idle). */
  | { readonly type: 'settle' }
  /** Measure the hash-only line again (the service idle): did the machine's speed hold during the run? */
  | { readonly type: 'hash-only-again' }
  | { readonly type: 'stop' };

export type ServiceMessage =
  | { readonly type: 'hash-only'; readonly line: HashOnlyLine }
  | { readonly type: 'ready'; readonly service: ServiceReady }
  | { readonly type: 'window'; readonly window: ServiceWindow }
  | { readonly type: 'settled'; readonly waitedMs: number }
  | { readonly type: 'failed'; readonly message: string };

/** The service process reported that it could not start or go on; the message says why. */
export class ServiceFailed extends Error {
  constructor(reason: string) {
    super(`The service failed: ${reason}`);
  }
}

type Reply<T extends ServiceMessage['type']> = Extract<ServiceMessage, { type: T }>;

/**
 * The runner's side of the channel. Messages are queued as they arrive, so one that comes before
 * the runner asks for it is not lost; a 'failed' message or the process's exit fails the wait.
 */
export class ServiceChannel {
  private readonly inbox: ServiceMessage[] = [];
  private exitCode: number | null | undefined;
  private wake: () => void = () => undefined;

  constructor(private readonly child: ChildProcess) {
    child.on('message', (message: ServiceMessage) => {
      this.inbox.push(message);
      this.wake();
    });
    child.on('exit', (code) => {
      this.exitCode = code;
      this.wake();
    });
  }

  send(message: RunnerMessage): void {
    if (this.child.connected) this.child.send(message);
  }

  /** The next message of this type; rejects on 'failed', on exit, or after `timeoutMs`. */
  async next<T extends ServiceMessage['type']>(type: T, timeoutMs: number): Promise<Reply<T>> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const index = this.inbox.findIndex((message) => message.type === type || message.type === 'failed');
      if (index >= 0) {
        const [message] = this.inbox.splice(index, 1);
        if (message.type === 'failed') throw new ServiceFailed(message.message);
        return message as Reply<T>;
      }
      if (this.exitCode !== undefined) throw new Error(`the service exited (${this.exitCode}) before sending '${type}'`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`the service sent no '${type}' within ${timeoutMs} ms`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
  }

  /** Asks the service to stop and waits for it to exit; kills it (by its pid) if it does not. */
  async stop(graceMs = 20_000): Promise<void> {
    if (this.exitCode !== undefined) return;
    const exited = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
    this.send({ type: 'stop' });
    const timer = setTimeout(() => this.child.kill('SIGKILL'), graceMs);
    await exited;
    clearTimeout(timer);
  }
}
