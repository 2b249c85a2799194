/**
 * The headers and trailers a gRPC server sends (gRPC over HTTP/2, "Responses"): the response
 * headers, the status trailers (`grpc-status`, percent-encoded `grpc-message`, the status's
 * metadata) and the trailers-only answer of a call that fails before any message. The shared
 * objects are frozen: Node copies what it sends, so one object serves every call.
 */

import type { OutgoingHttpHeaders } from 'node:http2';
import { constants as http2 } from 'node:http2';
import { status as Status } from '@grpc/grpc-js';

/** A call's final status as a handler gives it: grpc-js's `ServiceError` shape. */
export interface CallStatus {
  readonly code: number;
  readonly details: string;
  /** grpc-js `Metadata`: sent as trailers (binary `-bin` values base64-encoded). */
  readonly metadata?: { toHttp2Headers(): OutgoingHttpHeaders } | null;
}

export const GRPC_CONTENT_TYPE = 'application/grpc+proto';

/** What grpc-js's server sends too: compressed requests are accepted, responses are not compressed. */
export const RESPONSE_HEADERS: OutgoingHttpHeaders = Object.freeze({
  [http2.HTTP2_HEADER_STATUS]: http2.HTTP_STATUS_OK,
  [http2.HTTP2_HEADER_CONTENT_TYPE]: GRPC_CONTENT_TYPE,
  'grpc-accept-encoding': 'identity,deflate,gzip',
  'grpc-encoding': 'identity',
});

export const OK_TRAILERS: OutgoingHttpHeaders = Object.freeze({ 'grpc-status': '0', 'grpc-message': 'OK' });

/** `respond()` options: trailers follow the messages. */
export const WITH_TRAILERS = Object.freeze({ waitForTrailers: true });
/** `respond()` options: the headers end the stream (trailers-only, or a refusal). */
export const END_STREAM = Object.freeze({ endStream: true });

/** Answer to a request that is not gRPC. */
export const UNSUPPORTED_MEDIA_TYPE_HEADERS: OutgoingHttpHeaders = Object.freeze({
  [http2.HTTP2_HEADER_STATUS]: http2.HTTP_STATUS_UNSUPPORTED_MEDIA_TYPE,
});

const PLAIN_MESSAGE = /^[\x20-\x24\x26-\x7e]*$/;

/**
 * `grpc-message` as the protocol wants it: bytes outside printable ASCII, and `%` itself, as
 * `%XX` of their UTF-8 encoding.
 */
export function percentEncode(message: string): string {
  if (PLAIN_MESSAGE.test(message)) return message;
  let encoded = '';
  for (const byte of Buffer.from(message, 'utf8')) {
    encoded +=
      byte >= 0x20 && byte <= 0x7e && byte !== 0x25
        ? String.fromCharCode(byte)
        : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return encoded;
}

/** The trailers that end a call with `status`. */
export function statusTrailers(status: CallStatus): OutgoingHttpHeaders {
  if (status.code === Status.OK && (status.metadata === undefined || status.metadata === null))
    return OK_TRAILERS;
  return {
    ...status.metadata?.toHttp2Headers(),
    'grpc-status': String(status.code),
    'grpc-message': percentEncode(status.details),
  };
}

/** The single HEADERS frame that answers a call which fails before sending any message. */
export function trailersOnly(status: CallStatus): OutgoingHttpHeaders {
  return { ...RESPONSE_HEADERS, ...statusTrailers(status) };
}

/**
 * The status a handler's error stands for, as grpc-js reads it: an integer `code` (else UNKNOWN),
 * `details` (else the error's message), `metadata` as trailers.
 */
export function statusOfError(error: unknown): CallStatus {
  const fields = (typeof error === 'object' && error !== null ? error : {}) as {
    code?: unknown;
    details?: unknown;
    message?: unknown;
    metadata?: CallStatus['metadata'];
  };
  const message = typeof fields.message === 'string' ? fields.message : 'Unknown Error';
  if (typeof fields.code !== 'number' || !Number.isInteger(fields.code))
    return { code: Status.UNKNOWN, details: message, metadata: fields.metadata ?? null };
  return {
    code: fields.code,
    details: typeof fields.details === 'string' ? fields.details : message,
    metadata: fields.metadata ?? null,
  };
}
