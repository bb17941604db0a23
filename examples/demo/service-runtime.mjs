// What the three demo services share: listening on loopback, and running on their own.
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** Listens with a node:http app (Express) on 127.0.0.1; resolves with its URL and a close(). */
export function listen(app, port, name) {
  return new Promise((resolve, reject) => {
    const server = app.listen(port, '127.0.0.1', () => {
      server.off('error', reject);
      resolve({
        name,
        url: `http://127.0.0.1:${server.address().port}`,
        close: () =>
          new Promise((done) => {
            server.closeAllConnections?.();
            server.close(() => done());
          }),
      });
    });
    server.once('error', reject);
  });
}

/** When the module is the program itself (`node payment-service.mjs`), start it and say where. */
export async function runAsMain(moduleUrl, start) {
  if (!process.argv[1] || realpathSync(process.argv[1]) !== realpathSync(fileURLToPath(moduleUrl))) return;
  const service = await start();
  console.log(`${service.name} on ${service.url}`);
}
