/**
 * How a service process ends: its exit code and signal, and how long it took after being asked.
 * A process that does not end in time is killed (SIGKILL, by its pid) so no test leaves one behind.
 */
import type { ChildProcess } from 'node:child_process';
import type { RunningService } from './processes';

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface TimedExit extends Exit {
  /** Milliseconds from the signal to the exit. */
  ms: number;
  /** True when the process had not exited within the bound and was killed. */
  timedOut: boolean;
}

/** Resolves when the child exits (at once when it already has). */
export function exitOf(child: ChildProcess): Promise<Exit> {
  if (child.exitCode !== null || child.signalCode !== null) {
    return Promise.resolve({ code: child.exitCode, signal: child.signalCode });
  }
  return new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
}

export function isRunning(child: ChildProcess): boolean {
  return child.exitCode === null && child.signalCode === null;
}

/** Sends `signal` and waits up to `boundMs` for the exit (see waitForExit). */
export function signalAndWait(child: ChildProcess, signal: NodeJS.Signals, boundMs: number): Promise<TimedExit> {
  const start = Date.now();
  if (isRunning(child)) child.kill(signal);
  return waitForExit(child, boundMs, start);
}

/**
 * Waits up to `boundMs` (counted from `since`, default now) for the exit, sending nothing; past the
 * bound the child is killed (SIGKILL) and `timedOut` is set.
 */
export async function waitForExit(child: ChildProcess, boundMs: number, since = Date.now()): Promise<TimedExit> {
  const exited = exitOf(child);
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<'late'>((resolve) => (timer = setTimeout(() => resolve('late'), Math.max(0, since + boundMs - Date.now()))));
  const first = await Promise.race([exited, late]);
  clearTimeout(timer);
  if (first !== 'late') return { ...first, ms: Date.now() - since, timedOut: false };
  child.kill('SIGKILL');
  return { ...(await exited), ms: Date.now() - since, timedOut: true };
}

/** For afterAll: stops the service whatever state it is in (SIGTERM, then SIGKILL past the bound). */
export async function ensureStopped(running: RunningService | undefined, boundMs = 15_000): Promise<void> {
  if (running && isRunning(running.process)) await signalAndWait(running.process, 'SIGTERM', boundMs);
}
