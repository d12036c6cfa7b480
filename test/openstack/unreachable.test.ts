/**
 * A cloud endpoint that can't be reached gives one message whatever the cause: the endpoint is the
 * host:port a user's credential names, so telling "refused" from "timed out" or "reset" would make
 * the server a port scanner of its own network.
 */
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { send } from '../../connectors/openstack/api';
import { OpenStackUnreachableError } from '../../connectors/openstack/errors';

const listen = (s: Server) => new Promise<number>((r) => s.listen(0, '127.0.0.1', () => r((s.address() as AddressInfo).port)));

describe('OpenStackUnreachableError', () => {
  const sockets: Socket[] = [];
  const silent = createServer((c) => sockets.push(c)); // accepts, never answers: a timeout
  const closing = createServer((c) => c.destroy()); // accepts, then resets: "socket hang up"
  let refusedPort = 0;
  let silentPort = 0;
  let closingPort = 0;

  beforeAll(async () => {
    silentPort = await listen(silent);
    closingPort = await listen(closing);
    const probe = createServer(); // a port that was just free: nothing listens there
    refusedPort = await listen(probe);
    await new Promise((r) => probe.close(r));
  });
  afterAll(async () => {
    for (const s of sockets) s.destroy();
    await Promise.all([silent, closing].map((s) => new Promise((r) => s.close(r))));
  });

  const failure = async (port: number) => {
    const err = await send({ method: 'GET', url: `http://127.0.0.1:${port}/v3?x=1`, timeoutMs: 300, idempotent: true }, { retries: 0, baseDelayMs: 1, maxDelayMs: 1 })
      .then(() => undefined, (e: unknown) => e);
    expect(err).toBeInstanceOf(OpenStackUnreachableError);
    const e = err as OpenStackUnreachableError;
    expect(e.code).toBe('Unreachable');
    return e.message.replace(String(port), 'PORT');
  };

  it('refused, timed out and reset connections read the same', async () => {
    const [refused, timedOut, reset] = [await failure(refusedPort), await failure(silentPort), await failure(closingPort)];
    expect(refused).toBe('Cannot reach OpenStack at GET http://127.0.0.1:PORT/v3: no answer (the connection failed or timed out)');
    expect(timedOut).toBe(refused);
    expect(reset).toBe(refused);
  });
});
