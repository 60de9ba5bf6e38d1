/**
 * A small HTTP proxy for interop tests: third-party clients call it as if it were the platform,
 * it forwards every request unchanged (the Host header too, so the WSDL the platform serves
 * names the proxy and the clients keep coming back through it) and keeps each exchange exactly
 * as the platform answered it: status, raw header lines and body bytes. The tests then check
 * the platform's own bytes, which the clients' libraries would otherwise hide.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface RecordedExchange {
  method: string;
  /** Path and query as the client sent them. */
  path: string;
  requestHeaders: http.IncomingHttpHeaders;
  requestBody: Buffer;
  status: number;
  /** The platform's header lines, names in their original case, in order. */
  rawHeaders: string[];
  responseHeaders: http.IncomingHttpHeaders;
  responseBody: Buffer;
}

export interface RecordingProxy {
  /** `http://127.0.0.1:port`, to be used in place of the platform's URL. */
  url: string;
  /** Every exchange since the last `take`, oldest first, and forgets them. */
  take(): RecordedExchange[];
  close(): Promise<void>;
}

/** Hop-by-hop headers (RFC 9110 §7.6.1) are the proxy's own business on each side. */
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'transfer-encoding', 'te', 'trailer', 'upgrade']);

export async function startRecordingProxy(targetUrl: string): Promise<RecordingProxy> {
  const target = new URL(targetUrl);
  const agent = new http.Agent({ keepAlive: true });
  let exchanges: RecordedExchange[] = [];

  const server = http.createServer((request, response) => {
    void readAll(request).then((requestBody) => {
      const upstream = http.request(
        {
          host: target.hostname,
          port: target.port,
          method: request.method,
          path: request.url,
          headers: forwardable(request.headers, requestBody.length),
          agent,
        },
        (answer) => {
          void readAll(answer).then((responseBody) => {
            exchanges.push({
              method: request.method ?? '',
              path: request.url ?? '',
              requestHeaders: request.headers,
              requestBody,
              status: answer.statusCode ?? 0,
              rawHeaders: answer.rawHeaders,
              responseHeaders: answer.headers,
              responseBody,
            });
            response.writeHead(answer.statusCode ?? 502, forwardable(answer.headers, responseBody.length));
            response.end(responseBody);
          });
        },
      );
      upstream.on('error', (error) => {
        response.writeHead(502, { 'Content-Type': 'text/plain; charset=utf-8' });
        response.end(`recording proxy: ${error.message}`);
      });
      upstream.end(requestBody);
    });
  });

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    take() {
      const taken = exchanges;
      exchanges = [];
      return taken;
    },
    async close() {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
      agent.destroy();
    },
  };
}

function readAll(stream: NodeJS.ReadableStream): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    stream.on('data', (chunk: Buffer) => chunks.push(chunk));
    stream.on('end', () => resolve(Buffer.concat(chunks)));
    stream.on('error', reject);
  });
}

/** The headers minus hop-by-hop ones, with the length of the body as it is passed on. */
function forwardable(headers: http.IncomingHttpHeaders, length: number): http.OutgoingHttpHeaders {
  const kept: http.OutgoingHttpHeaders = {};
  for (const [name, value] of Object.entries(headers)) {
    if (!HOP_BY_HOP.has(name) && value !== undefined) kept[name] = value;
  }
  kept['content-length'] = String(length);
  return kept;
}
