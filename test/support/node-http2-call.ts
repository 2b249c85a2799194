import type * as http2 from 'node:http2';

export interface NodeHttp2Answer {
  /** The response headers (of a trailers-only answer: all there is). */
  readonly headers: http2.IncomingHttpHeaders;
  readonly trailers: http2.IncomingHttpHeaders;
  readonly body: Buffer;
}

/** One request on a node:http2 client session, sent whole with `body`; rejects on a stream error. */
export function nodeHttp2Call(
  session: http2.ClientHttp2Session,
  headers: http2.OutgoingHttpHeaders,
  body: Buffer,
): Promise<NodeHttp2Answer> {
  return new Promise((resolve, reject) => {
    const request = session.request(headers);
    let responseHeaders: http2.IncomingHttpHeaders = {};
    let trailers: http2.IncomingHttpHeaders = {};
    const chunks: Buffer[] = [];
    request.on('response', (received) => {
      responseHeaders = received;
    });
    request.on('trailers', (received) => {
      trailers = received;
    });
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => resolve({ headers: responseHeaders, trailers, body: Buffer.concat(chunks) }));
    request.on('error', reject);
    request.end(body);
  });
}
