import { connect, createServer, type Server, type Socket } from 'node:net';

/**
 * A TCP forwarder in front of a real service (Redis), to take it away and bring it back from a
 * test: `stop()` refuses new connections and cuts the open ones (a crash or a lost network),
 * `stall()` keeps connections open but forwards nothing (a hung server: only timeouts notice),
 * `start()` listens again on the same port (the service is back).
 */
export interface TcpProxy {
  readonly port: number;
  start(): Promise<void>;
  stop(): Promise<void>;
  stall(): void;
  close(): Promise<void>;
}

export async function startTcpProxy(target: { host: string; port: number }): Promise<TcpProxy> {
  const sockets = new Set<Socket>();
  let server: Server | undefined;
  let port = 0;
  let isStalled = false;

  const forward = (from: Socket, to: Socket) =>
    from.on('data', (chunk) => {
      if (!isStalled) to.write(chunk);
    });

  async function start() {
    isStalled = false;
    server = createServer((client) => {
      const upstream = connect(target);
      for (const socket of [client, upstream]) {
        sockets.add(socket);
        socket.on('error', () => undefined);
        socket.on('close', () => {
          sockets.delete(socket);
          client.destroy();
          upstream.destroy();
        });
      }
      forward(client, upstream);
      forward(upstream, client);
    });
    await new Promise<void>((resolve, reject) => {
      server!.once('error', reject);
      server!.listen(port, '127.0.0.1', () => resolve());
    });
    port = (server.address() as { port: number }).port;
  }

  async function stop() {
    const closed = new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
    for (const socket of sockets) socket.destroy();
    server = undefined;
    await closed;
  }

  await start();
  return {
    get port() {
      return port;
    },
    start,
    stop,
    stall: () => (isStalled = true),
    close: stop,
  };
}
