/**
 * A call's request metadata read straight from its HTTP/2 headers, made only when a handler asks
 * for it and holding nothing but the headers object Node already made. `get` answers as grpc-js's
 * `Metadata.get` does (binary `-bin` values base64-decoded, a comma-joined binary value split).
 */
import type { IncomingHttpHeaders } from 'node:http2';
import type { MetadataValue } from '@grpc/grpc-js';

/** What handlers read of a call's metadata (grpc-js's `Metadata` has it too). */
export interface RequestMetadata {
  get(key: string): MetadataValue[];
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
  constructor(private readonly headers: IncomingHttpHeaders) {}

  get(key: string): MetadataValue[] {
    const name = key.toLowerCase();
    if (name.startsWith(':') || NOT_METADATA.has(name)) return [];
    const value = this.headers[name];
    if (value === undefined) return [];
    const values = Array.isArray(value) ? value : name.endsWith('-bin') ? value.split(',') : [value];
    return name.endsWith('-bin') ? values.map((text) => Buffer.from(text.trim(), 'base64')) : values;
  }
}
