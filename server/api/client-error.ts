/**
 * Requests node's HTTP parser refuses before express sees them (a control character or a bare
 * newline in a header, a request line or headers over 16 KB, a broken chunked body): node answers
 * them with an empty body, and a CONNECT with nothing at all. Here they get IM's error shape instead — a text/plain message (the
 * Accept header could not be read) that names the problem and echoes nothing of the request.
 */
import { STATUS_CODES, type IncomingMessage, type Server } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Logger } from 'pino';

const MESSAGES: Record<string, [number, string]> = {
  HPE_HEADER_OVERFLOW: [431, 'Request header fields too large: the request line and headers are limited to 16 KB'],
  HPE_CHUNK_EXTENSIONS_OVERFLOW: [413, 'Request chunk extensions too large'],
  ERR_HTTP_REQUEST_TIMEOUT: [408, 'Request timeout'],
  HPE_INVALID_HEADER_TOKEN: [400, 'Bad request: invalid character in a header name or value'],
  HPE_INVALID_URL: [400, 'Bad request: invalid character in the request line'],
  HPE_INVALID_METHOD: [400, 'Bad request: invalid HTTP method'],
  HPE_INVALID_CONTENT_LENGTH: [400, 'Bad request: invalid Content-Length'],
  HPE_UNEXPECTED_CONTENT_LENGTH: [400, 'Bad request: both Content-Length and Transfer-Encoding'],
};

export function answerClientErrors(server: Server, logger: Logger): void {
  // CONNECT never reaches express: without a listener node drops the socket without a word.
  server.on('connect', (_req: IncomingMessage, socket: Duplex) => {
    logger.debug({ status: 405, method: 'CONNECT' }, 'request refused');
    endWith(socket, 405, 'Method CONNECT not allowed: this is the IM REST API, not a proxy');
  });
  server.on('clientError', (err: NodeJS.ErrnoException, socket: Duplex) => {
    // A reset socket or one already answering cannot take an error page.
    if (err.code === 'ECONNRESET' || !socket.writable || (socket as { _httpMessage?: unknown })._httpMessage) {
      socket.destroy();
      return;
    }
    const [status, message] = MESSAGES[err.code ?? ''] ?? [400, `Bad request: malformed HTTP request (${err.code ?? 'unknown'})`];
    logger.debug({ status, code: err.code }, 'malformed HTTP request refused');
    endWith(socket, status, message);
  });
}

function endWith(socket: Duplex, status: number, message: string): void {
  const body = Buffer.from(message, 'utf8');
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Type: text/plain; charset=utf-8\r\n` +
    `Content-Length: ${body.length}\r\nConnection: close\r\n\r\n${message}`,
  );
}
