/**
 * A TCP relay to the run's test database that a test can cut (a database gone) and restore, for a
 * service started on `url()` instead of the database itself.
 */
import { connect, createServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';

type Target = { host: string; port: number } | { path: string };

export class DatabaseLink {
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();
  private port = 0;
  private readonly target: Target;

  constructor(private readonly databaseUrl: string = process.env.TEST_DATABASE_URL!) {
    const url = new URL(databaseUrl);
    // The embedded database listens on a unix socket, named by the URL's `host` parameter as pg reads it.
    const socketDir = url.searchParams.get('host');
    this.target = socketDir ? { path: join(socketDir, `.s.PGSQL.${url.port || 5432}`) } : { host: url.hostname, port: Number(url.port || 5432) };
  }

  /** Listens (on the same port as before, after a cut) and returns the port. */
  async open(): Promise<number> {
    const server = createServer((client) => {
      const upstream = connect(this.target);
      for (const socket of [client, upstream]) {
        this.sockets.add(socket);
        socket.on('close', () => this.sockets.delete(socket));
        socket.on('error', () => {
          client.destroy();
          upstream.destroy();
        });
      }
      client.pipe(upstream).pipe(client);
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.port, '127.0.0.1', () => resolve());
    });
    this.server = server;
    this.port = (server.address() as { port: number }).port;
    return this.port;
  }

  /** The database's URL through the link (opened at least once). */
  url(): string {
    if (this.port === 0) throw new Error('open the link first');
    const url = new URL(this.databaseUrl);
    url.searchParams.delete('host');
    url.hostname = '127.0.0.1';
    url.port = String(this.port);
    return url.toString();
  }

  /** Refuses new connections and drops the open ones. */
  async cut(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    for (const socket of this.sockets) socket.destroy();
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}
