import { encodeWithScratch } from '../lib/index.js';
import { BinaryReader as Reader, BinaryWriter as Writer } from './binary.js';
import { MAX_REQUEST_ID_LENGTH, MAX_SNAPSHOT_BYTES } from './constants.js';
import type { ClusterConfig, Entry, EntryKind, Message, MessageType, SnapshotMetadata } from './types.js';

/**
 * Compact binary form of `Message` for the transport. Layout: a version byte, a type byte,
 * then unsigned LEB128 varints for numbers, a byte for booleans and entry kinds, and a varint
 * length before every byte string and UTF-8 string. The decoder checks every length against
 * the bytes actually left before allocating anything.
 */
export const MESSAGE_CODEC_VERSION = 1;

const MESSAGE_TYPES: readonly MessageType[] = [
  'vote',
  'preVote',
  'voteResponse',
  'preVoteResponse',
  'append',
  'appendResponse',
  'heartbeat',
  'heartbeatResponse',
  'snapshot',
  'snapshotResponse',
  'timeoutNow',
  'readIndex',
  'readIndexResponse',
];
const TYPE_TAGS = new Map(MESSAGE_TYPES.map((type, tag) => [type, tag]));
const ENTRY_KINDS: readonly EntryKind[] = ['normal', 'config', 'noop'];
const KIND_TAGS = new Map(ENTRY_KINDS.map((kind, tag) => [kind, tag]));
function writeConfig(writer: Writer, config: ClusterConfig): void {
  writer.nodes(config.voters);
  writer.nodes(config.learners);
  writer.nodes(config.outgoingVoters);
}

function readConfig(reader: Reader): ClusterConfig {
  return { voters: reader.nodes(), learners: reader.nodes(), outgoingVoters: reader.nodes() };
}

function writeMetadata(writer: Writer, metadata: SnapshotMetadata): void {
  writer.varint(metadata.index);
  writer.varint(metadata.term);
  writeConfig(writer, metadata.config);
}

function readMetadata(reader: Reader): SnapshotMetadata {
  const index = reader.varint();
  const term = reader.varint();
  return { index, term, config: readConfig(reader) };
}

function estimateBytes(message: Message): number {
  if (message.type === 'append') {
    let bytes = 64;
    for (const entry of message.entries) bytes += entry.data.byteLength + 24;
    return bytes;
  }
  if (message.type === 'snapshot') return message.data.byteLength + 256;
  return 64;
}

export function encodeMessage(message: Message): Uint8Array {
  return encodeWithScratch(Writer.scratch(estimateBytes(message)), (writer) => writeMessage(writer, message));
}

function writeMessage(writer: Writer, message: Message): void {
  writer.byte(MESSAGE_CODEC_VERSION);
  writer.byte(TYPE_TAGS.get(message.type)!);
  writer.varint(message.from);
  writer.varint(message.to);
  writer.varint(message.term);
  switch (message.type) {
    case 'vote':
    case 'preVote':
      writer.varint(message.lastLogIndex);
      writer.varint(message.lastLogTerm);
      writer.byte(message.transfer ? 1 : 0);
      break;
    case 'voteResponse':
    case 'preVoteResponse':
      writer.byte(message.granted ? 1 : 0);
      break;
    case 'append':
      writer.varint(message.prevIndex);
      writer.varint(message.prevTerm);
      writer.varint(message.commit);
      writer.varint(message.entries.length);
      for (const entry of message.entries) {
        writer.varint(entry.term);
        writer.varint(entry.index);
        writer.byte(KIND_TAGS.get(entry.kind)!);
        writer.bytesField(entry.data);
      }
      break;
    case 'appendResponse':
      writer.byte(message.success ? 1 : 0);
      writer.varint(message.index);
      writer.varint(message.conflictTerm);
      writer.varint(message.conflictIndex);
      break;
    case 'heartbeat':
      writer.varint(message.commit);
      writer.string(message.context);
      writer.varint(message.sentTick);
      break;
    case 'heartbeatResponse':
      writer.string(message.context);
      writer.varint(message.sentTick);
      break;
    case 'snapshot':
      writeMetadata(writer, message.metadata);
      writer.varint(message.offset);
      writer.varint(message.totalBytes);
      writer.bytesField(message.data);
      break;
    case 'snapshotResponse':
      writer.varint(message.index);
      writer.varint(message.nextOffset);
      break;
    case 'timeoutNow':
      break;
    case 'readIndex':
      writer.string(message.requestId);
      break;
    case 'readIndexResponse':
      writer.string(message.requestId);
      writer.varint(message.index);
      writer.byte(message.success ? 1 : 0);
      break;
  }
}

/** Decodes one message; any malformed input throws `MessageDecodeError` (code BAD_MESSAGE). */
export function decodeMessage(bytes: Uint8Array): Message {
  const reader = new Reader(bytes, 'message');
  const version = reader.byte();
  if (version !== MESSAGE_CODEC_VERSION) reader.fail(`unsupported version ${version}`);
  const type = MESSAGE_TYPES[reader.byte()];
  if (type === undefined) return reader.fail('unknown message type');
  const from = reader.node();
  const to = reader.node();
  const term = reader.varint();
  const header = { from, to, term };
  let message: Message;
  switch (type) {
    case 'vote':
    case 'preVote': {
      const lastLogIndex = reader.varint();
      const lastLogTerm = reader.varint();
      message = { type, ...header, lastLogIndex, lastLogTerm, transfer: reader.boolean() };
      break;
    }
    case 'voteResponse':
    case 'preVoteResponse':
      message = { type, ...header, granted: reader.boolean() };
      break;
    case 'append': {
      const prevIndex = reader.varint();
      const prevTerm = reader.varint();
      const commit = reader.varint();
      // An entry takes at least 4 bytes: term, index, kind, data length.
      const count = reader.count(4, Number.MAX_SAFE_INTEGER);
      const entries: Entry[] = [];
      for (let position = 0; position < count; position++) {
        const entryTerm = reader.varint();
        const index = reader.varint();
        const kind = ENTRY_KINDS[reader.byte()] ?? reader.fail('unknown entry kind');
        const data = reader.bytesField(Number.MAX_SAFE_INTEGER);
        if (index !== prevIndex + position + 1) reader.fail('entry indexes are not consecutive');
        entries.push({ term: entryTerm, index, kind, data });
      }
      message = { type, ...header, prevIndex, prevTerm, commit, entries };
      break;
    }
    case 'appendResponse': {
      const success = reader.boolean();
      const index = reader.varint();
      const conflictTerm = reader.varint();
      const conflictIndex = reader.varint();
      message = { type, ...header, success, index, conflictTerm, conflictIndex };
      break;
    }
    case 'heartbeat': {
      const commit = reader.varint();
      const context = reader.string(MAX_REQUEST_ID_LENGTH);
      message = { type, ...header, commit, context, sentTick: reader.varint() };
      break;
    }
    case 'heartbeatResponse': {
      const context = reader.string(MAX_REQUEST_ID_LENGTH);
      message = { type, ...header, context, sentTick: reader.varint() };
      break;
    }
    case 'snapshot': {
      const metadata = readMetadata(reader);
      const offset = reader.varint();
      const totalBytes = reader.varint();
      if (totalBytes > MAX_SNAPSHOT_BYTES) reader.fail('snapshot too large');
      const data = reader.bytesField(MAX_SNAPSHOT_BYTES);
      if (offset + data.byteLength > totalBytes) reader.fail('chunk beyond the snapshot');
      message = { type, ...header, metadata, offset, totalBytes, data };
      break;
    }
    case 'snapshotResponse': {
      const index = reader.varint();
      message = { type, ...header, index, nextOffset: reader.varint() };
      break;
    }
    case 'timeoutNow':
      message = { type, ...header };
      break;
    case 'readIndex':
      message = { type, ...header, requestId: reader.string(MAX_REQUEST_ID_LENGTH) };
      break;
    case 'readIndexResponse': {
      const requestId = reader.string(MAX_REQUEST_ID_LENGTH);
      const index = reader.varint();
      message = { type, ...header, requestId, index, success: reader.boolean() };
      break;
    }
  }
  reader.end();
  return message;
}
