/**
 * A PostgreSQL server of a test's own, for the tests that stop and start the database under the
 * service. Never the machine's shared server: `initdb` into a temporary folder, listening on a free
 * loopback port with its socket in that folder, stopped and removed by `dispose()`.
 *
 * PostgreSQL refuses to run as root, so when the tests run as root every PostgreSQL command runs
 * as the `postgres` user (`runuser`), on a folder handed to that user.
 */
import { execFile, execFileSync } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './processes';

const INSTALL_ROOT = '/usr/lib/postgresql';
const COMMAND_TIMEOUT_MS = 30_000;

/** The newest installed server's bin folder (PG_BIN_DIR overrides). */
function binDir(): string {
  if (process.env.PG_BIN_DIR) return process.env.PG_BIN_DIR;
  const versions = existsSync(INSTALL_ROOT)
    ? readdirSync(INSTALL_ROOT).filter((version) => existsSync(join(INSTALL_ROOT, version, 'bin', 'pg_ctl')))
    : [];
  if (versions.length === 0) throw new Error(`No PostgreSQL server binaries under ${INSTALL_ROOT}/*/bin (set PG_BIN_DIR)`);
  versions.sort((a, b) => Number(b) - Number(a));
  return join(INSTALL_ROOT, versions[0], 'bin');
}

const runsAsRoot = () => process.getuid?.() === 0;

export class ThrowawayPostgres {
  private running = false;
  private readonly exitGuard = () => this.killPostmaster();

  private constructor(
    /** Holds the data folder, the socket and the server log. */
    readonly root: string,
    readonly port: number,
    private readonly bin: string,
  ) {}

  /** `postgresql://postgres@127.0.0.1:<port>/postgres` (trust authentication). */
  get url(): string {
    return `postgresql://postgres@127.0.0.1:${this.port}/postgres`;
  }

  private get dataDir(): string {
    return join(this.root, 'data');
  }

  /** initdb and start a new server on a free port. */
  static async create(): Promise<ThrowawayPostgres> {
    const root = mkdtempSync(join(tmpdir(), 'im-auth-throwaway-pg-'));
    const server = new ThrowawayPostgres(root, await freePort(), binDir());
    try {
      if (runsAsRoot()) {
        const uid = Number(execFileSync('id', ['-u', 'postgres']).toString().trim());
        const gid = Number(execFileSync('id', ['-g', 'postgres']).toString().trim());
        chownSync(root, uid, gid);
      }
      await server.run('initdb', ['-D', server.dataDir, '-U', 'postgres', '--auth=trust', '--no-sync', '-E', 'UTF8']);
      await server.start();
      return server;
    } catch (error) {
      await server.dispose();
      throw error;
    }
  }

  /** Starts the server (again) on the same port and data; resolves once it accepts connections. */
  async start(): Promise<void> {
    const options = `-p ${this.port} -k ${this.root} -c listen_addresses=127.0.0.1 -c fsync=off -c full_page_writes=off`;
    await this.run('pg_ctl', ['-D', this.dataDir, '-l', join(this.root, 'server.log'), '-o', options, '-w', '-t', '30', 'start']);
    this.running = true;
    // If the test process dies without dispose(), the server must not outlive it.
    process.once('exit', this.exitGuard);
  }

  /** Stops the server as an operator would (`pg_ctl stop -m fast`: sessions are terminated). */
  async stop(mode: 'fast' | 'immediate' = 'fast'): Promise<void> {
    await this.run('pg_ctl', ['-D', this.dataDir, '-m', mode, '-w', '-t', '30', 'stop']);
    this.running = false;
    process.removeListener('exit', this.exitGuard);
  }

  /** The end of the server's log, for failure messages. */
  logTail(lines = 30): string {
    const file = join(this.root, 'server.log');
    return existsSync(file) ? readFileSync(file, 'utf8').trim().split('\n').slice(-lines).join('\n') : '(no server log)';
  }

  /** Stops the server if it runs (falling back to signalling its postmaster) and removes its folder. */
  async dispose(): Promise<void> {
    if (this.running) {
      try {
        await this.stop('immediate');
      } catch (error) {
        process.stderr.write(`pg_ctl stop failed, signalling the postmaster: ${(error as Error).message}\n`);
        this.killPostmaster();
      }
    }
    process.removeListener('exit', this.exitGuard);
    this.running = false;
    rmSync(this.root, { recursive: true, force: true });
  }

  /** SIGQUIT (immediate shutdown) to this server's postmaster, by the pid in its postmaster.pid. */
  private killPostmaster(): void {
    const pidFile = join(this.dataDir, 'postmaster.pid');
    if (!existsSync(pidFile)) return;
    const pid = Number(readFileSync(pidFile, 'utf8').split('\n')[0]);
    if (!Number.isInteger(pid) || pid <= 0) return;
    try {
      process.kill(pid, 'SIGQUIT');
    } catch {
      // already gone: nothing to stop
    }
  }

  private run(tool: string, args: string[]): Promise<string> {
    const binary = join(this.bin, tool);
    const [file, argv] = runsAsRoot() ? ['runuser', ['-u', 'postgres', '--', binary, ...args]] : [binary, args];
    return new Promise((resolve, reject) => {
      // pg_ctl sends the server's own output to -l, so no pipe outlives the command.
      execFile(file, argv, { cwd: this.root, timeout: COMMAND_TIMEOUT_MS }, (error, stdout, stderr) => {
        if (error) reject(new Error(`${tool} ${args.join(' ')} failed: ${error.message}\n${stdout}${stderr}\n${this.logTail(10)}`));
        else resolve(stdout);
      });
    });
  }
}
