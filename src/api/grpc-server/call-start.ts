/**
 * What every call reads from its request headers before its first message: the deadline
 * (`grpc-timeout`) and the encoding of compressed messages (`grpc-encoding`); and the few
 * statuses a server sends on its own.
 */
import type { IncomingHttpHeaders } from 'node:http2';
import { status as Status } from '@grpc/grpc-js';
import type { CallStream } from './call-stream.js';
import { parseGrpcTimeout } from './grpc-timeout.js';
import type { CallLimits, ServedMethod } from './served-methods.js';
import { type CallStatus, END_STREAM, trailersOnly } from './status-headers.js';

/** The timeout the client set, in ms; undefined for none; a status when the header is malformed. */
export function timeoutOf(headers: IncomingHttpHeaders): number | undefined | CallStatus {
  const header = headers['grpc-timeout'];
  if (header === undefined) return undefined;
  const text = Array.isArray(header) ? (header[0] ?? '') : header;
  const timeoutMs = parseGrpcTimeout(text);
  return timeoutMs ?? { code: Status.INTERNAL, details: `Invalid grpc-timeout value "${text}"` };
}

/** The encoding of the call's compressed messages, when it names one. */
export function encodingOf(headers: IncomingHttpHeaders): string | undefined {
  const header = headers['grpc-encoding'];
  return Array.isArray(header) ? header[0] : header;
}

export const DEADLINE_EXCEEDED: CallStatus = Object.freeze({
  code: Status.DEADLINE_EXCEEDED,
  details: 'Deadline exceeded',
});

export const HANDLER_THREW: CallStatus = Object.freeze({ code: Status.UNKNOWN, details: 'Unknown error' });

export const BAD_REQUEST_MESSAGE: CallStatus = Object.freeze({
  code: Status.INTERNAL,
  details: 'Error deserializing request',
});

const BAD_RESPONSE_MESSAGE: CallStatus = Object.freeze({
  code: Status.INTERNAL,
  details: 'Error serializing response',
});

/** A response message's protobuf bytes, or the status that ends the call when it cannot be sent. */
export function encodeResponse(
  method: ServedMethod,
  limits: CallLimits,
  value: unknown,
): Buffer | CallStatus {
  let bytes: Buffer;
  try {
    bytes = method.serialize(value);
  } catch {
    return BAD_RESPONSE_MESSAGE;
  }
  if (bytes.length <= limits.sendMessageBytes) return bytes;
  return {
    code: Status.RESOURCE_EXHAUSTED,
    details: `Sent message larger than max (${bytes.length} vs. ${limits.sendMessageBytes})`,
  };
}

export function noRequestMessage(path: string): CallStatus {
  return { code: Status.UNIMPLEMENTED, details: `Received no request message for ${path}` };
}

export function secondRequestMessage(path: string): CallStatus {
  return { code: Status.UNIMPLEMENTED, details: `Received a second request message for ${path}` };
}

/** True once nothing more can be sent on the stream (closed, reset, or its session gone). */
export function streamGone(stream: CallStream): boolean {
  return stream.destroyed || stream.closed;
}

/** Ends a call that sent no message yet with `status`, in one HEADERS frame. */
export function respondTrailersOnly(stream: CallStream, status: CallStatus): void {
  if (streamGone(stream) || stream.headersSent) return;
  stream.respond(trailersOnly(status), END_STREAM);
}

/** Shared listener that keeps a stream's errors from being unhandled: its 'close' says the rest. */
export function ignoreStreamError(): void {}
