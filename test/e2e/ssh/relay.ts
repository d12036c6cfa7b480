/**
 * Byte relays between a TCP port and a Unix socket. Unix sockets are files, not network: they
 * join the test's namespace and the sealed server namespace without any route between them, so
 * the server under test reaches the simulator's API (and the test the server's) while its only
 * network is the lab's public bridge.
 */
import { createConnection, createServer, type AddressInfo, type ListenOptions, type NetConnectOpts, type Server, type Socket } from 'node:net';
import { rmSync } from 'node:fs';

export interface Relay {
  /** The TCP port listened on (0 for a Unix socket listener). */
  port: number;
  close(): Promise<void>;
}

/** Listens on `from` (host/port or path) and pipes every connection to `to`. */
export async function startRelay(from: ListenOptions, to: NetConnectOpts): Promise<Relay> {
  if (from.path) rmSync(from.path, { force: true });
  const sockets = new Set<Socket>();
  const track = (s: Socket) => { sockets.add(s); s.once('close', () => sockets.delete(s)); };
  const server: Server = createServer((inbound) => {
    const outbound = createConnection(to);
    track(inbound);
    track(outbound);
    inbound.pipe(outbound).pipe(inbound);
    // either side failing ends both: the client sees a reset, as it would without the relay
    inbound.once('error', () => outbound.destroy());
    outbound.once('error', () => inbound.destroy());
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(from, () => resolve());
  });
  const addr = server.address();
  return {
    port: typeof addr === 'object' && addr ? (addr as AddressInfo).port : 0,
    close: () => new Promise<void>((resolve) => {
      for (const s of sockets) s.destroy();
      server.close(() => resolve());
      if (from.path) rmSync(from.path, { force: true });
    }),
  };
}
