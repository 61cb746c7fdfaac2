/**
 * The background tasks (purges, the signing keys' refresh, the Redis probe), under one set of rules:
 * a timer never keeps the process alive; a run still going when the next is due is skipped; a failed
 * run is one warning, and the next run tries again; shutdown stops every timer and waits for the
 * runs in progress, before the database pool closes. Not @nestjs/schedule: its decorators fix an
 * interval when the class is declared (ours are configured), and it neither unrefs nor waits.
 */
import { Injectable, Logger, OnModuleDestroy } from '@nestjs/common';

/** Stops one scheduled task (a run in progress finishes). */
export type Cancel = () => void;

@Injectable()
export class Scheduler implements OnModuleDestroy {
  private readonly logger = new Logger(Scheduler.name);
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly running = new Set<Promise<void>>();
  private stopped = false;

  /** Runs `task` every `intervalMs` until cancelled or shut down; `what` says what it does, in a warning. */
  every(intervalMs: number, what: string, task: () => unknown): Cancel {
    let busy = false;
    const timer = setInterval(() => {
      if (busy) return;
      busy = true;
      void this.run(what, task).finally(() => (busy = false));
    }, intervalMs);
    return this.track(timer);
  }

  /** Runs `task` once, `delayMs` from now, unless cancelled or shut down first. */
  after(delayMs: number, what: string, task: () => unknown): Cancel {
    const timer: NodeJS.Timeout = setTimeout(() => {
      this.timers.delete(timer);
      void this.run(what, task);
    }, delayMs);
    return this.track(timer);
  }

  async onModuleDestroy(): Promise<void> {
    this.stopped = true;
    for (const timer of this.timers) clearTimeout(timer); // clears an interval too
    this.timers.clear();
    await Promise.all(this.running);
  }

  private track(timer: NodeJS.Timeout): Cancel {
    timer.unref();
    if (this.stopped) clearTimeout(timer); // asked for during shutdown: never runs
    else this.timers.add(timer);
    return () => {
      clearTimeout(timer);
      this.timers.delete(timer);
    };
  }

  private run(what: string, task: () => unknown): Promise<void> {
    const running = (async () => {
      try {
        await task();
      } catch (error) {
        this.logger.warn(`Could not ${what}: ${(error as Error).message}`);
      }
    })();
    this.running.add(running);
    return running.finally(() => this.running.delete(running));
  }
}
