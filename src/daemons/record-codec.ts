/**
 * The bytes a daemon's chains carry: one `InboundEventRecord` per record of the inbound chain,
 * one `OutputRecord` per record of the output chain. Compact `BinaryWriter` fields behind a
 * version byte, so a later format can be told apart. Decoding is strict: an unknown version or
 * flag, a field past its limit, a truncated field or trailing bytes fail with
 * `DaemonRecordDecodeError` (`DAEMON_RECORD_INVALID`).
 *
 * Inbound: version 1, flags (1 clientId, 2 sequence, 4 key), epoch, then the flagged fields in
 * that order, then the payload. Output: version 1, inboundOffset, index, payload.
 */
import { MAX_CHAIN_RECORD_BYTES } from '../chains/index.js';
import { assert, BinaryReader, BinaryWriter } from '../lib/index.js';
import {
  MAX_DAEMON_CLIENT_ID_CHARACTERS,
  MAX_DAEMON_EVENT_BYTES,
  MAX_DAEMON_EVENT_KEY_CHARACTERS,
} from './cluster-limits.js';
import { DaemonRecordDecodeError } from './errors.js';
import { MAX_DAEMON_OUTPUT_BYTES, MAX_DAEMON_OUTPUTS_PER_EVENT } from './limits.js';
import type { InboundEventRecord, OutputRecord } from './types.js';

const RECORD_VERSION = 1;
const HAS_CLIENT_ID = 1;
const HAS_SEQUENCE = 2;
const HAS_KEY = 4;
const KNOWN_FLAGS = HAS_CLIENT_ID | HAS_SEQUENCE | HAS_KEY;

/** The most an inbound record adds to its payload: version, flags, varints, and UTF-8 text (3 bytes a character). */
export const MAX_INBOUND_RECORD_HEADER_BYTES =
  2 + 3 * 8 + 3 * 8 + 3 * (MAX_DAEMON_CLIENT_ID_CHARACTERS + MAX_DAEMON_EVENT_KEY_CHARACTERS);
/** The most an output record adds to its payload: version and three varints. */
export const MAX_OUTPUT_RECORD_HEADER_BYTES = 1 + 3 * 8;

assert(
  MAX_DAEMON_EVENT_BYTES + MAX_INBOUND_RECORD_HEADER_BYTES <= MAX_CHAIN_RECORD_BYTES,
  'the largest inbound record fits a chain record',
);
assert(
  MAX_DAEMON_OUTPUT_BYTES + MAX_OUTPUT_RECORD_HEADER_BYTES <= MAX_CHAIN_RECORD_BYTES,
  'the largest output record fits a chain record',
);

function decodeError(subject: string, problem: string): DaemonRecordDecodeError {
  return new DaemonRecordDecodeError(subject, problem);
}

/** The record's bytes; its fields must already be within their limits (checked where the event entered). */
export function encodeInboundEventRecord(record: InboundEventRecord): Uint8Array {
  const flags =
    (record.clientId === undefined ? 0 : HAS_CLIENT_ID) |
    (record.sequence === undefined ? 0 : HAS_SEQUENCE) |
    (record.key === undefined ? 0 : HAS_KEY);
  const writer = BinaryWriter.scratch(record.payload.length + 64);
  writer.byte(RECORD_VERSION).byte(flags).varuint(record.epoch);
  if (record.clientId !== undefined) writer.text(record.clientId);
  if (record.sequence !== undefined) writer.varuint(record.sequence);
  if (record.key !== undefined) writer.text(record.key);
  writer.bytes(record.payload);
  return writer.finish();
}

/** The record in `bytes`; its payload is a view of `bytes` (copy it to keep it past them). */
export function decodeInboundEventRecord(bytes: Uint8Array): InboundEventRecord {
  const reader = new BinaryReader(bytes, 'inbound event record', decodeError);
  readVersion(reader);
  const flags = reader.byte();
  if ((flags & ~KNOWN_FLAGS) !== 0) reader.fail(`unknown flags ${flags}`);
  const epoch = reader.varuint();
  const clientId = (flags & HAS_CLIENT_ID) === 0 ? undefined : reader.text(MAX_DAEMON_CLIENT_ID_CHARACTERS);
  const sequence = (flags & HAS_SEQUENCE) === 0 ? undefined : reader.varuint();
  const key = (flags & HAS_KEY) === 0 ? undefined : reader.text(MAX_DAEMON_EVENT_KEY_CHARACTERS);
  const payload = reader.bytes(MAX_DAEMON_EVENT_BYTES);
  reader.end();
  return {
    epoch,
    ...(clientId === undefined ? {} : { clientId }),
    ...(sequence === undefined ? {} : { sequence }),
    ...(key === undefined ? {} : { key }),
    payload,
  };
}

export function encodeOutputRecord(record: OutputRecord): Uint8Array {
  return BinaryWriter.scratch(record.payload.length + MAX_OUTPUT_RECORD_HEADER_BYTES)
    .byte(RECORD_VERSION)
    .varuint(record.inboundOffset)
    .varuint(record.index)
    .bytes(record.payload)
    .finish();
}

/** The record in `bytes`; its payload is a view of `bytes` (copy it to keep it past them). */
export function decodeOutputRecord(bytes: Uint8Array): OutputRecord {
  const reader = new BinaryReader(bytes, 'output record', decodeError);
  readVersion(reader);
  const inboundOffset = reader.varuint();
  const index = reader.varuint();
  if (index >= MAX_DAEMON_OUTPUTS_PER_EVENT) {
    reader.fail(
      `output index ${index} is past the limit of ${MAX_DAEMON_OUTPUTS_PER_EVENT} outputs an event`,
    );
  }
  const payload = reader.bytes(MAX_DAEMON_OUTPUT_BYTES);
  reader.end();
  return { inboundOffset, index, payload };
}

function readVersion(reader: BinaryReader): void {
  const version = reader.byte();
  if (version !== RECORD_VERSION) reader.fail(`unknown version ${version}`);
}
