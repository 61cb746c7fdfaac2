/**
 * A TCP proxy on a free loopback port that can stop forwarding without closing anything: a
 * stalled network, where connections stay open and nothing answers. `stall()` holds every byte
 * from then on (in order), `resume()` delivers what was held and forwards again.
 */
import { createServer, connect, type Server, type Socket } from 'node:net';
import { once } from 'node:events';

export class StallingProxy {
  private readonly sockets = new Set<Socket>();
  private held: Array<() => void> | undefined;

  private constructor(
    private readonly server: Server,
    readonly port: number,
  ) {}

  static async start(targetPort: number): Promise<StallingProxy> {
    const server = createServer();
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const proxy = new StallingProxy(server, (server.address() as { port: number }).port);
    server.on('connection', (client) => proxy.connect(client, targetPort));
    return proxy;
  }

  stall(): void {
    this.held ??= [];
  }

  resume(): void {
    const held = this.held ?? [];
    this.held = undefined;
    for (const deliver of held) deliver();
  }

  async close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    this.server.close();
    await once(this.server, 'close');
  }

  private connect(client: Socket, targetPort: number): void {
    const upstream = connect(targetPort, '127.0.0.1');
    this.forward(client, upstream);
    this.forward(upstream, client);
  }

  private forward(from: Socket, to: Socket): void {
    this.sockets.add(from);
    from.on('error', () => undefined);
    from.on('close', () => {
      this.sockets.delete(from);
      to.destroy();
    });
    from.on('data', (chunk) => {
      const deliver = () => to.write(chunk);
      if (this.held) this.held.push(deliver);
      else deliver();
    });
  }
}
