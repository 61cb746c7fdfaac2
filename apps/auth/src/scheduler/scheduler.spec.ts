/**
 * The scheduler's rules, on Jest's fake clock (each run is started by advancing it, and held open
 * by a promise the test releases): runs on time, never two at once, a failure is a warning and not
 * the end, shutdown stops every timer and waits for the run in progress. Whether a timer keeps
 * the process alive is asked of Node itself, on real timers.
 */
import { Logger } from '@nestjs/common';
import { Scheduler } from './scheduler';

/** A promise the test settles by hand. */
function gate(): { promise: Promise<void>; open(): void; fail(error: Error): void } {
  let open!: () => void;
  let fail!: (error: Error) => void;
  const promise = new Promise<void>((resolve, reject) => ((open = resolve), (fail = reject)));
  return { promise, open, fail };
}

describe('Scheduler', () => {
  let warn: jest.SpyInstance;

  beforeEach(() => {
    jest.useFakeTimers();
    warn = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
  });

  afterEach(() => {
    jest.useRealTimers();
    warn.mockRestore();
  });

  it('runs a task every interval until it is cancelled', async () => {
    const scheduler = new Scheduler();
    const task = jest.fn();
    const cancel = scheduler.every(1000, 'count', task);
    await jest.advanceTimersByTimeAsync(999);
    expect(task).toHaveBeenCalledTimes(0);
    await jest.advanceTimersByTimeAsync(2001);
    expect(task).toHaveBeenCalledTimes(3);
    cancel();
    await jest.advanceTimersByTimeAsync(5000);
    expect(task).toHaveBeenCalledTimes(3);
  });

  it('skips a run while the previous one is still going, and runs again once it is done', async () => {
    const scheduler = new Scheduler();
    const slow = gate();
    const task = jest.fn(() => slow.promise);
    scheduler.every(1000, 'purge', task);
    await jest.advanceTimersByTimeAsync(3000);
    expect(task).toHaveBeenCalledTimes(1);
    slow.open();
    await jest.advanceTimersByTimeAsync(1000);
    expect(task).toHaveBeenCalledTimes(2);
  });

  it('logs a failed run as one warning naming the task, and keeps running it', async () => {
    const scheduler = new Scheduler();
    const task = jest
      .fn()
      .mockRejectedValueOnce(new Error('connection refused'))
      .mockImplementationOnce(() => {
        throw new Error('thrown at once');
      })
      .mockResolvedValue(undefined);
    scheduler.every(1000, 'purge old counters', task);
    await jest.advanceTimersByTimeAsync(3000);
    expect(task).toHaveBeenCalledTimes(3);
    expect(warn.mock.calls.map(([message]) => message)).toEqual([
      'Could not purge old counters: connection refused',
      'Could not purge old counters: thrown at once',
    ]);
  });

  it('runs a one-off task once, after its delay, unless cancelled', async () => {
    const scheduler = new Scheduler();
    const once = jest.fn();
    const cancelled = jest.fn();
    scheduler.after(500, 'reconnect', once);
    scheduler.after(500, 'reconnect', cancelled)();
    await jest.advanceTimersByTimeAsync(5000);
    expect(once).toHaveBeenCalledTimes(1);
    expect(cancelled).not.toHaveBeenCalled();
  });

  it('stops every timer on shutdown, after the run in progress has finished', async () => {
    const scheduler = new Scheduler();
    const running = gate();
    const periodic = jest.fn(() => running.promise);
    const pending = jest.fn();
    scheduler.every(1000, 'purge', periodic);
    scheduler.after(1500, 'reconnect', pending);
    await jest.advanceTimersByTimeAsync(1000);
    expect(periodic).toHaveBeenCalledTimes(1);

    let stopped = false;
    const shutdown = scheduler.onModuleDestroy().then(() => (stopped = true));
    await jest.advanceTimersByTimeAsync(0);
    expect(stopped).toBe(false); // the purge is still running
    running.open();
    await shutdown;

    await jest.advanceTimersByTimeAsync(10_000);
    expect(periodic).toHaveBeenCalledTimes(1);
    expect(pending).not.toHaveBeenCalled();
    // Asked for during or after shutdown: never runs.
    const late = jest.fn();
    scheduler.every(1000, 'late', late);
    await jest.advanceTimersByTimeAsync(5000);
    expect(late).not.toHaveBeenCalled();
  });

  it('never keeps the process alive', async () => {
    jest.useRealTimers();
    const keepingAlive = () => process.getActiveResourcesInfo().filter((resource) => resource === 'Timeout').length;
    const before = keepingAlive();
    const scheduler = new Scheduler();
    scheduler.every(60_000, 'purge', () => undefined);
    scheduler.after(60_000, 'reconnect', () => undefined);
    expect(keepingAlive()).toBe(before);
    // A control: the same timer left referenced is counted.
    const referenced = setTimeout(() => undefined, 60_000);
    expect(keepingAlive()).toBe(before + 1);
    clearTimeout(referenced);
    await scheduler.onModuleDestroy();
  });
});
