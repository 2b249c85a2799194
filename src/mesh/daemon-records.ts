/**
 * The bytes of a daemon's inbound and output chain records as the node's daemons service reads
 * and writes them.
 */
import { DaemonRecordDecodeError } from '../daemons/index.js';
import type { InboundEventRecord, OutputRecord } from '../daemons/types.js';
import { BinaryReader, BinaryWriter } from '../lib/index.js';

const INBOUND_VERSION = 1;
const OUTPUT_VERSION = 1;
const HAS_CLIENT = 1;
const HAS_KEY = 2;

const decodeError = (subject: string, problem: string) => new DaemonRecordDecodeError(subject, problem);

export function encodeInbound(record: InboundEventRecord): Uint8Array {
  const hasClient = record.clientId !== undefined && record.sequence !== undefined;
  const writer = new BinaryWriter()
    .byte(INBOUND_VERSION)
    .varuint(record.epoch)
    .byte((hasClient ? HAS_CLIENT : 0) | (record.key === undefined ? 0 : HAS_KEY));
  if (hasClient) writer.text(record.clientId as string).varuint(record.sequence as number);
  if (record.key !== undefined) writer.text(record.key);
  return writer.bytes(record.payload).finish();
}

export function decodeInbound(bytes: Uint8Array): InboundEventRecord {
  const reader = new BinaryReader(bytes, 'inbound event record', decodeError);
  if (reader.byte() !== INBOUND_VERSION) reader.fail('unknown version');
  const epoch = reader.varuint();
  const flags = reader.byte();
  const client = (flags & HAS_CLIENT) !== 0 ? { clientId: reader.text(), sequence: reader.varuint() } : {};
  const key = (flags & HAS_KEY) !== 0 ? { key: reader.text() } : {};
  const payload = reader.bytesCopy();
  reader.end();
  return { epoch, ...client, ...key, payload };
}

export function encodeOutput(record: OutputRecord): Uint8Array {
  return new BinaryWriter()
    .byte(OUTPUT_VERSION)
    .varuint(record.inboundOffset)
    .varuint(record.index)
    .bytes(record.payload)
    .finish();
}

export function decodeOutput(bytes: Uint8Array): OutputRecord {
  const reader = new BinaryReader(bytes, 'output record', decodeError);
  if (reader.byte() !== OUTPUT_VERSION) reader.fail('unknown version');
  const record = { inboundOffset: reader.varuint(), index: reader.varuint(), payload: reader.bytesCopy() };
  reader.end();
  return record;
}
