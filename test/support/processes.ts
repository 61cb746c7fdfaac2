/**
 * Running the service and the CLI as real processes, the way a developer runs them
 * (`npm start`, `npm run cli -- ...`), for the tests that need whole processes.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { HARNESS_ERROR_MODE } from './error-mode';

const ROOT = join(__dirname, '..', '..');
const TS_NODE = ['-r', '@swc-node/register'];

/**
 * The environment of this process, without anything that would point a child at another database.
 * Children mirror errors into HTTP statuses unless `env` says otherwise (HARNESS_ERROR_MODE says
 * why); a variable set to undefined in `env` is left unset (the service's default).
 */
export function childEnv(env: Record<string, string | undefined>): NodeJS.ProcessEnv {
  const base = { ...process.env };
  delete base.DATABASE_URL;
  delete base.TEST_DATABASE_URL;
  const merged: Record<string, string | undefined> = { ...base, LOG_LEVEL: 'log', ...HARNESS_ERROR_MODE, ...env };
  return Object.fromEntries(Object.entries(merged).filter(([, value]) => value !== undefined)) as NodeJS.ProcessEnv;
}

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
  /** The last line of stdout, parsed as JSON (undefined when it is not JSON). */
  json: any;
}

export function runCli(args: string[], env: Record<string, string | undefined>, stdin?: string): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...TS_NODE, 'apps/auth/src/cli/main.ts', ...args], { cwd: ROOT, env: childEnv(env) });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.stderr.on('data', (chunk) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (code) => {
      const last = stdout.trim().split('\n').pop() ?? '';
      let json: unknown;
      try {
        json = JSON.parse(last);
      } catch {
        json = undefined;
      }
      resolve({ code, stdout, stderr, json });
    });
    child.stdin.end(stdin ?? '');
  });
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
    server.on('error', reject);
  });
}

export interface RunningService {
  process: ChildProcess;
  baseUrl: string;
  /** What it wrote to stdout and stderr (stderr only, with `stdout: 'unread'`). */
  output(): string;
  /** Sends SIGTERM and resolves with the exit code. */
  stop(): Promise<number | null>;
}

export interface StartProcessOptions {
  timeoutMs?: number;
  /**
   * 'unread': stdout is a pipe that nobody ever reads, as with a stuck log shipper; the service is
   * known to listen when /health/live answers. Default 'read': collected into output().
   */
  stdout?: 'read' | 'unread';
}

/** Starts `apps/auth/src/main.ts` and waits until it listens (on env.PORT when given: to start it again where it was). */
export async function startServiceProcess(
  env: Record<string, string | undefined>,
  options: number | StartProcessOptions = {},
): Promise<RunningService> {
  const { timeoutMs = 60_000, stdout = 'read' } = typeof options === 'number' ? { timeoutMs: options } : options;
  const port = env.PORT ? Number(env.PORT) : await freePort();
  const baseUrl = `http://127.0.0.1:${port}`;
  const child = spawn(process.execPath, [...TS_NODE, 'apps/auth/src/main.ts'], {
    cwd: ROOT,
    env: childEnv({ HOST: '127.0.0.1', PORT: String(port), NO_COLOR: '1', ...env }),
  });
  let output = '';
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  await new Promise<void>((resolve, reject) => {
    let listening = false;
    const ready = () => {
      listening = true;
      clearTimeout(timer);
      resolve();
    };
    const timer = setTimeout(() => {
      listening = true; // stops the polling below
      reject(new Error(`service did not start in ${timeoutMs} ms:\n${output}`));
    }, timeoutMs);
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      if (!listening && output.includes('Listening on')) ready();
    };
    if (stdout === 'read') child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    if (stdout === 'unread') {
      const poll = async () => {
        while (!listening) {
          const live = await fetch(`${baseUrl}/health/live`).then((reply) => reply.ok, () => false);
          if (live) return ready();
          await new Promise((resolveDelay) => setTimeout(resolveDelay, 200));
        }
      };
      void poll();
    }
    void exited.then((code) => {
      listening = true;
      clearTimeout(timer);
      reject(new Error(`service exited with ${code} before listening:\n${output}`));
    });
  });
  return {
    process: child,
    baseUrl,
    output: () => output,
    stop: async () => {
      if (child.exitCode === null) child.kill('SIGTERM');
      return exited;
    },
  };
}
