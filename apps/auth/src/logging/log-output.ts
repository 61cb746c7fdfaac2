/**
 * Where the log's lines go when they are JSON: stdout, never blocking the event loop. A log reader
 * that stops reading (a stuck shipper, a full pipe) must not stop the service: lines wait in a
 * buffer of at most MAX_BUFFERED_BYTES while the pipe is full, and lines beyond it are dropped and
 * counted (`log_lines_dropped_total` in /metrics). A stdout that fails for good (EPIPE: the reader
 * has gone) drops every later line the same way rather than take the process down.
 *
 * On a pipe or socket Node writes stdout asynchronously, so the buffer is its own (`writableLength`);
 * a file is written at once (it never blocks for long), and a terminal gets the readable lines of
 * app-logger.ts instead.
 */
import type { Writable } from 'node:stream';

/** About 4,000 request lines: a reader that pauses for a few seconds under load loses nothing. */
export const MAX_BUFFERED_BYTES = 1024 * 1024;

export class LogOutput {
  private droppedLines = 0;
  private failed = false;

  constructor(
    private readonly stream: Writable,
    private readonly maxBufferedBytes = MAX_BUFFERED_BYTES,
  ) {
    stream.on('error', () => (this.failed = true));
  }

  /** pino's destination interface: one line, newline included. */
  write(line: string): void {
    if (this.failed || this.stream.writableLength + line.length > this.maxBufferedBytes) {
      this.droppedLines++;
      return;
    }
    this.stream.write(line);
  }

  /** Lines dropped so far: the buffer was full, or stdout had failed. */
  get dropped(): number {
    return this.droppedLines;
  }

  /** Resolves once every buffered line is written, or after `timeoutMs` (a reader that reads no more). */
  async flush(timeoutMs: number): Promise<void> {
    if (this.failed || this.stream.writableLength === 0) return;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      new Promise<void>((resolve) => this.stream.once('drain', resolve)),
      new Promise<void>((resolve) => (timer = setTimeout(resolve, timeoutMs))),
    ]);
    clearTimeout(timer);
  }
}

let stdoutOutput: LogOutput | undefined;

/** The process's one stdout output, made on first use. */
export function stdoutLogOutput(): LogOutput {
  stdoutOutput ??= new LogOutput(process.stdout);
  return stdoutOutput;
}

/** Lines stdout has dropped in this process (0 when nothing has logged to it). */
export function droppedLogLines(): number {
  return stdoutOutput?.dropped ?? 0;
}
