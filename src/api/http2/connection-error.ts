import { MeshError } from '../../lib/index.js';

/**
 * A connection error (RFC 9113 section 5.4.1): the connection answers it with GOAWAY carrying
 * `errorCode` and closes.
 */
export class Http2ConnectionError extends MeshError {
  constructor(
    readonly errorCode: number,
    problem: string,
  ) {
    super('HTTP2_CONNECTION_ERROR', `HTTP/2 client connection: ${problem}`, {
      details: { errorCode, problem },
    });
  }
}
