/**
 * A call's request metadata read straight from its HTTP/2 headers, made only when a handler asks
 * for it and holding nothing but the headers object Node already made. `get` answers as grpc-js's
 * `Metadata.get` does (binary `-bin` values base64-decoded, a comma-joined binary value split).
 */
import type { IncomingHttpHeaders } from 'node:http2';
import type { MetadataValue } from '@grpc/grpc-js';
import { type AuthContext, authContextOf } from './auth-context.js';
import type { CallStream } from './call-stream.js';

/**
 * What handlers read of a call's metadata (grpc-js's `Metadata` has `get` too). MeshOS's server
 * also answers the connection's TLS through it, so code that is handed only the metadata (the
 * auth checks) can take a verified client certificate's name as the caller; grpc-js's has not.
 */
export interface RequestMetadata {
  get(key: string): MetadataValue[];
  getAuthContext?(): AuthContext;
}

/** Headers that are transport, not metadata (grpc-js removes them from what handlers see). */
const NOT_METADATA = new Set([
  'grpc-timeout',
  'grpc-encoding',
  'grpc-accept-encoding',
  'accept-encoding',
  'te',
  'content-type',
]);

export class HeaderMetadata implements RequestMetadata {
  constructor(
    private readonly headers: IncomingHttpHeaders,
    /** The call's stream, whose connection answers the TLS (none: plaintext, as in tests). */
    private readonly stream?: CallStream,
  ) {}

  getAuthContext(): AuthContext {
    return this.stream === undefined ? {} : authContextOf(this.stream);
  }

  get(key: string): MetadataValue[] {
    const name = key.toLowerCase();
    if (name.startsWith(':') || NOT_METADATA.has(name)) return [];
    const value = this.headers[name];
    if (value === undefined) return [];
    const values = Array.isArray(value) ? value : name.endsWith('-bin') ? value.split(',') : [value];
    return name.endsWith('-bin') ? values.map((text) => Buffer.from(text.trim(), 'base64')) : values;
  }
}
