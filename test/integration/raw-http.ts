/**
 * HTTP/1.1 over a bare socket, for requests fetch and node's client refuse to send: control
 * characters, bare newlines and non-ASCII bytes in headers, malformed paths, lying Content-Length.
 * One request per connection (Connection: close); the answer is read until the server closes.
 */
import * as net from 'node:net';

export interface RawRequest {
  method: string;
  /** Sent as is: no encoding, no checks. */
  path: string;
  /** Values are sent byte for byte (a Buffer as is, a string as UTF-8). */
  headers?: Record<string, string | Buffer | undefined>;
  body?: Buffer | string;
}

export interface RawReply { status: number; type: string; headers: Record<string, string>; text: string; ms: number }

/** Rejects when no complete answer arrives within timeoutMs: the server hung on the request. */
export function rawRequest(baseUrl: string, req: RawRequest, timeoutMs = 10_000): Promise<RawReply> {
  const { hostname, port } = new URL(baseUrl);
  const body = req.body === undefined ? undefined : Buffer.from(req.body);
  const head: Buffer[] = [Buffer.from(`${req.method} ${req.path} HTTP/1.1\r\nHost: ${hostname}:${port}\r\nConnection: close\r\n`, 'latin1')];
  for (const [name, value] of Object.entries(req.headers ?? {})) {
    if (value !== undefined) head.push(Buffer.from(`${name}: `, 'latin1'), Buffer.from(value), Buffer.from('\r\n'));
  }
  if (body && !Object.keys(req.headers ?? {}).some((h) => h.toLowerCase() === 'content-length')) {
    head.push(Buffer.from(`Content-Length: ${body.length}\r\n`));
  }
  head.push(Buffer.from('\r\n'));
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const socket = net.connect(Number(port), hostname);
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no answer within ${timeoutMs} ms to ${req.method} ${req.path.slice(0, 200)}`));
    }, timeoutMs);
    const finish = () => {
      clearTimeout(timer);
      const raw = Buffer.concat(chunks);
      const split = raw.indexOf('\r\n\r\n');
      if (split < 0) return reject(new Error(`incomplete answer to ${req.method} ${req.path.slice(0, 200)}: ${JSON.stringify(raw.toString('latin1').slice(0, 200))}`));
      const [statusLine, ...lines] = raw.subarray(0, split).toString('latin1').split('\r\n');
      const headers: Record<string, string> = {};
      for (const line of lines) {
        const colon = line.indexOf(':');
        headers[line.slice(0, colon).toLowerCase()] = line.slice(colon + 1).trim();
      }
      resolve({
        status: Number(statusLine.split(' ')[1]),
        type: (headers['content-type'] ?? '').split(';')[0],
        headers,
        text: raw.subarray(split + 4).toString('utf8'),
        ms: Date.now() - started,
      });
    };
    socket.on('data', (d: Buffer) => chunks.push(d));
    socket.on('end', finish);
    // The server may answer (413, 431) and close before reading the whole request: keep what came.
    socket.on('error', () => finish());
    socket.write(Buffer.concat(head));
    if (body) socket.write(body);
  });
}
