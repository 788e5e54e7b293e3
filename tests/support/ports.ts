// A free loopback port. There is a window between closing the probe socket and the server
// binding it; acceptable for tests (every server here binds 127.0.0.1 only).
import net, { type AddressInfo } from 'node:net';

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}
