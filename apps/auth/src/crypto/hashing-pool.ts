/**
 * Password hashes run here, in worker threads at a lower scheduling priority, one per core.
 * On libuv's pool a 19 MiB argon2id competes with the event loop as an equal: under load the
 * loop waited for a core ~40% of the time. A niced thread still gets every idle cycle, but the
 * loop preempts it whenever it has work. One worker per core keeps every core hashing; requests
 * beyond that wait in order.
 *
 * Each worker (hashing-worker.mjs) lowers its own priority through its kernel thread id (Linux;
 * elsewhere, or if that fails, it hashes at normal priority). An idle worker does not keep the
 * process alive, a busy one does; one that dies has its job rejected and is replaced.
 *
 * The queue is bounded (`maxQueued`): a job beyond it is refused at once (HashingSaturated)
 * rather than left to wait longer than any client would, holding its request meanwhile. It is
 * shared out by client (fair-share-queue.ts; a client is its network: clientNetwork in
 * callers/client.ts, an IPv6 address by its /64): when it is full, a job of a client with fewer
 * jobs waiting takes the place of the newest job of the client with the most, which is refused.
 * Behind a proxy not listed in TRUSTED_PROXIES every job is of one client: first come first served.
 *
 * A verification can say how to tell that nobody waits for it any more (its client hung up):
 * when its turn comes it is dropped instead of hashed, so that under overload the workers spend
 * their time on requests that can still be answered, not on ones clients gave up on.
 */
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import type { Options } from '@node-rs/argon2';
import { FairShareQueue } from './fair-share-queue';

/**
 * Weight 110 against the event loop's 1024: the loop preempts a hash as it would at nice 19
 * (loop delay p99 1.8 ms either way, measured), but a hash still gets a fair slice when other
 * processes keep the machine busy, where nice 19 (weight 15) starved logins.
 */
const WORKER_NICE = 10;

/** Beside this file, in apps/auth/src as in dist/ (tsc copies it): plain JavaScript either way. */
const WORKER_FILE = join(__dirname, 'hashing-worker.mjs');

/**
 * The pool could not do the work (closed, or its worker died): unlike an error of the hash
 * function (a corrupt stored hash), this says nothing about the password.
 */
export class HashingUnavailable extends Error {}

/** The queue was full: the job was refused without waiting. Nothing about the password either. */
export class HashingSaturated extends Error {
  constructor(readonly queued: number) {
    super(`The hashing queue is full (${queued} waiting)`);
    this.name = 'HashingSaturated';
  }
}

/** A queued verification dropped unhashed: whoever asked for it had gone when its turn came. */
export class HashingAbandoned extends Error {
  constructor() {
    super('The verification was dropped: nobody waited for it any more');
    this.name = 'HashingAbandoned';
  }
}

/** Who a job is for: the client the queue is shared out by, and whether it has hung up. */
export interface HashingClient {
  /** Its network (an IPv4 address, an IPv6 /64): jobs with the same one take their turns together (none: work done for no request). */
  readonly network?: string;
  /** True once nobody waits for the answer any more; asked when the job's turn comes, not before. */
  readonly gone?: () => boolean;
  /** Told when a worker takes the job: what follows is the hash's own time, not the wait for a worker. */
  readonly started?: () => void;
}

/** The client of jobs that name none (work done for no request: the CLI, the demo seed): they share one turn. */
const UNNAMED_CLIENT = '';

/** What a worker is asked, and what it answers (hashing-worker.mjs). */
export type HashingJob = { op: 'hash'; password: string; options: Options } | { op: 'verifyArgon2' | 'verifyBcrypt'; hash: string; password: string };
type Reply = { ready: true; tid?: number } | { value: string | boolean } | { error: string };

interface Request {
  job: HashingJob;
  client: string;
  abandoned?: () => boolean;
  started?: () => void;
  resolve(value: string | boolean): void;
  reject(error: Error): void;
}

interface PoolWorker {
  thread: Worker;
  ready: boolean;
  /** Its kernel thread id, once it has reported one (Linux only). */
  tid?: number;
  request?: Request;
}

export class HashingPool {
  private readonly workers = new Set<PoolWorker>();
  private readonly idle: PoolWorker[] = [];
  private readonly queue = new FairShareQueue<Request>();
  private closed = false;

  /**
   * @param size workers, one per core
   * @param maxQueued jobs that may wait for a worker; more are refused with HashingSaturated
   */
  constructor(
    private readonly size: number,
    private readonly maxQueued = Infinity,
  ) {}

  /** Starts every worker now rather than on demand, so no request waits for one to load. */
  start(): void {
    while (!this.closed && this.workers.size < this.size) this.idle.push(this.spawn());
  }

  /** Rejects with HashingAbandoned, unhashed, when `client.gone()` is true at the job's turn. */
  hash(password: string, options: Options, client?: HashingClient): Promise<string> {
    return this.run({ op: 'hash', password, options }, client) as Promise<string>;
  }

  /** Rejects with HashingAbandoned, unhashed, when `client.gone()` is true at the job's turn. */
  verifyArgon2(hash: string, password: string, client?: HashingClient): Promise<boolean> {
    return this.run({ op: 'verifyArgon2', hash, password }, client) as Promise<boolean>;
  }

  /** Rejects with HashingAbandoned, unhashed, when `client.gone()` is true at the job's turn. */
  verifyBcrypt(hash: string, password: string, client?: HashingClient): Promise<boolean> {
    return this.run({ op: 'verifyBcrypt', hash, password }, client) as Promise<boolean>;
  }

  /** Stops the workers: queued requests are refused, one in progress is rejected. */
  async close(): Promise<void> {
    this.closed = true;
    for (const request of this.queue.clear()) request.reject(new HashingUnavailable('The hashing pool is closed'));
    this.idle.length = 0;
    await Promise.all([...this.workers].map((worker) => worker.thread.terminate()));
  }

  /** Jobs being hashed now, and jobs waiting for a worker. */
  load(): { running: number; queued: number } {
    let running = 0;
    for (const worker of this.workers) if (worker.request) running++;
    return { running, queued: this.queue.size };
  }

  /** For tests: the live workers. */
  inspect(): Array<{ thread: Worker; tid?: number; busy: boolean }> {
    return [...this.workers].map(({ thread, tid, request }) => ({ thread, tid, busy: request !== undefined }));
  }

  private run(job: HashingJob, client?: HashingClient): Promise<string | boolean> {
    return new Promise((resolve, reject) => {
      if (this.closed) return reject(new HashingUnavailable('The hashing pool is closed'));
      const request: Request = { job, client: client?.network ?? UNNAMED_CLIENT, abandoned: client?.gone, started: client?.started, resolve, reject };
      if (this.queue.size >= this.maxQueued && this.idle.length === 0) {
        // A full queue first sheds the jobs nobody waits for: hung-up clients must not hold places.
        for (const dropped of this.queue.removeWhere((waiting) => waiting.abandoned?.() === true)) dropped.reject(new HashingAbandoned());
        if (this.queue.size >= this.maxQueued) {
          const displaced = this.queue.evictFor(request.client);
          if (!displaced) return reject(new HashingSaturated(this.queue.size));
          displaced.reject(new HashingSaturated(this.queue.size));
        }
      }
      this.queue.push(request.client, request);
      this.dispatch();
    });
  }

  private dispatch(): void {
    while (this.queue.size > 0) {
      let worker: PoolWorker | undefined;
      try {
        worker = this.idle.pop() ?? (this.workers.size < this.size ? this.spawn() : undefined);
      } catch (error) {
        // No thread could start (resources exhausted): refuse the request instead of throwing
        // out of a worker's event handler, which would take the process down.
        this.queue.shift()!.reject(new HashingUnavailable(`No hashing worker could start: ${(error as Error).message}`));
        continue;
      }
      if (!worker) return;
      const request = this.queue.shift()!;
      if (request.abandoned?.()) {
        this.idle.push(worker); // asked only now, at its turn: the worker goes to the next one
        request.reject(new HashingAbandoned());
        continue;
      }
      try {
        worker.thread.postMessage(request.job);
      } catch (error) {
        this.idle.push(worker); // the worker never saw the job: still free
        request.reject(error as Error);
        continue;
      }
      worker.request = request;
      request.started?.();
      worker.thread.ref(); // work in progress keeps the process alive
    }
  }

  private spawn(): PoolWorker {
    // Not the parent's `-r @swc-node/register`: the worker is plain JavaScript.
    const thread = new Worker(WORKER_FILE, { workerData: { nice: WORKER_NICE }, execArgv: [] });
    const worker: PoolWorker = { thread, ready: false };
    let failure: Error | undefined;
    thread.on('message', (reply: Reply) => {
      if ('ready' in reply) {
        worker.ready = true;
        worker.tid = reply.tid;
        return;
      }
      const request = worker.request!;
      worker.request = undefined;
      thread.unref();
      this.idle.push(worker);
      if ('error' in reply) request.reject(new Error(reply.error));
      else request.resolve(reply.value);
      this.dispatch();
    });
    thread.on('error', (error) => (failure = error));
    thread.on('exit', (code) => {
      this.workers.delete(worker);
      const at = this.idle.indexOf(worker);
      if (at >= 0) this.idle.splice(at, 1);
      worker.request?.reject(new HashingUnavailable(`A hashing worker stopped (exit code ${code})${failure ? `: ${failure.message}` : ''}`));
      if (this.closed) return;
      // One that had loaded is replaced now; one that never loaded is retried only for queued work.
      if (worker.ready) {
        try {
          this.idle.push(this.spawn());
        } catch {
          // started again by the next request (dispatch), which is refused if that fails too
        }
      }
      this.dispatch();
    });
    thread.unref(); // after the listeners: adding a 'message' listener refs the worker again
    this.workers.add(worker);
    return worker;
  }
}
