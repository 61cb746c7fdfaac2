/**
 * The log's stdout output on its own, over a stream whose reader the test controls: lines wait
 * while the reader is slow, are dropped and counted once the buffer is full, and nothing blocks.
 */
import { Writable } from 'node:stream';
import { LogOutput } from './log-output';

/** A stream that takes one chunk and then holds the next ones until `release()`, like a full pipe. */
function stuckStream(): { stream: Writable; written: string[]; release(): void } {
  const written: string[] = [];
  let pending: (() => void) | undefined;
  let stuck = true;
  const stream = new Writable({
    highWaterMark: 16,
    decodeStrings: false,
    write(chunk: string, _encoding, callback) {
      written.push(chunk);
      if (stuck) pending = callback;
      else callback();
    },
  });
  return {
    stream,
    written,
    release() {
      stuck = false;
      pending?.();
    },
  };
}

describe('LogOutput', () => {
  /** 100 characters each. */
  const line = (n: number) => `${JSON.stringify({ n: String(n).padStart(3, '0'), msg: 'x'.repeat(79) })}\n`;

  it('keeps lines while the reader is stuck, up to its bound, then drops and counts the rest', () => {
    const { stream } = stuckStream();
    const output = new LogOutput(stream, 1000);
    for (let n = 0; n < 100; n++) output.write(line(n));
    expect(stream.writableLength).toBeLessThanOrEqual(1000);
    expect(line(0)).toHaveLength(100);
    expect(output.dropped).toBe(90); // ten lines are kept: the one with the reader and nine waiting
  });

  it('writes every line, in order, once the reader reads again', async () => {
    const { stream, written, release } = stuckStream();
    const output = new LogOutput(stream, 10_000);
    for (let n = 0; n < 20; n++) output.write(line(n));
    release();
    await output.flush(1000);
    expect(written.join('')).toBe(Array.from({ length: 20 }, (_, n) => line(n)).join(''));
    expect(output.dropped).toBe(0);
  });

  it('gives up flushing after its timeout when the reader never reads', async () => {
    const { stream } = stuckStream();
    const output = new LogOutput(stream, 10_000);
    output.write(line(0));
    output.write(line(1));
    const started = Date.now();
    await output.flush(50);
    expect(Date.now() - started).toBeLessThan(1000);
  });

  it('drops, and counts, every line after its stream has failed', () => {
    const stream = new Writable({ write: (_chunk, _encoding, callback) => callback(new Error('EPIPE')) });
    const output = new LogOutput(stream, 10_000);
    output.write(line(0));
    stream.emit('error', new Error('EPIPE'));
    output.write(line(1));
    output.write(line(2));
    expect(output.dropped).toBe(2);
  });
});
