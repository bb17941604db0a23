import { connect, type Socket } from 'node:net';

export interface RawAnswer {
  status: number;
  headers: Record<string, string>;
  body: string;
  raw: string;
}

/**
 * Sends bytes as they are (no client library would send malformed HTTP) and reads until the
 * server closes or answers in full. `bound` only detects a hang; it is not a timed assertion.
 */
export function rawRequest(port: number, chunks: (string | Buffer)[] | string, options: { gapMs?: number; bound?: number } = {}): Promise<RawAnswer> {
  const parts = typeof chunks === 'string' ? [chunks] : chunks;
  return new Promise((resolve, reject) => {
    const socket: Socket = connect(port, '127.0.0.1');
    let data = Buffer.alloc(0);
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no complete answer within ${options.bound ?? 10_000} ms; got ${JSON.stringify(data.toString('latin1').slice(0, 200))}`));
    }, options.bound ?? 10_000);
    const finish = () => {
      clearTimeout(timer);
      socket.destroy();
      resolve(parseAnswer(data.toString('latin1')));
    };
    socket.on('data', (chunk) => {
      data = Buffer.concat([data, chunk]);
      const answer = parseAnswer(data.toString('latin1'));
      if (answer.status > 0 && Buffer.byteLength(answer.body, 'latin1') >= Number(answer.headers['content-length'] ?? Infinity)) finish();
    });
    socket.on('close', finish);
    socket.on('error', () => undefined);
    void (async () => {
      for (const part of parts) {
        if (socket.destroyed) return;
        socket.write(part);
        if (options.gapMs) await new Promise((r) => setTimeout(r, options.gapMs));
      }
    })();
  });
}

export function parseAnswer(raw: string): RawAnswer {
  const end = raw.indexOf('\r\n\r\n');
  if (end < 0) return { status: 0, headers: {}, body: '', raw };
  const [statusLine, ...lines] = raw.slice(0, end).split('\r\n');
  const headers: Record<string, string> = {};
  for (const line of lines) {
    const colon = line.indexOf(':');
    headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  return { status: Number(statusLine!.split(' ')[1]), headers, body: raw.slice(end + 4), raw };
}
