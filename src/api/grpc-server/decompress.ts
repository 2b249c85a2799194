/**
 * Compressed request messages (flag 1 in the prefix, algorithm named by `grpc-encoding`): gzip and
 * deflate are inflated with node:zlib, bounded by the receive limit; any other encoding is refused
 * with UNIMPLEMENTED, as grpc-js does. Inflating is synchronous: a message is at most the receive
 * limit, and keeping it in line keeps a stream's messages in order.
 */
import * as zlib from 'node:zlib';
import { status as Status } from '@grpc/grpc-js';
import { CallStatusError } from './call-status-error.js';

export function decompress(bytes: Buffer, encoding: string | undefined, limitBytes: number): Buffer {
  const options = { maxOutputLength: limitBytes };
  try {
    if (encoding === 'gzip') return zlib.gunzipSync(bytes, options);
    if (encoding === 'deflate') return zlib.inflateSync(bytes, options);
  } catch (error) {
    if ((error as { code?: unknown }).code === 'ERR_BUFFER_TOO_LARGE')
      throw new CallStatusError({
        code: Status.RESOURCE_EXHAUSTED,
        details: `Received message that decompresses to a size larger than ${limitBytes}`,
      });
    throw new CallStatusError({ code: Status.INTERNAL, details: 'Failed to decompress message' });
  }
  throw new CallStatusError({
    code: Status.UNIMPLEMENTED,
    details: `Received message compressed with unsupported encoding "${encoding ?? 'identity'}"`,
  });
}
