import { encodeWithScratch, isNodeId, BinaryReader as Reader, BinaryWriter as Writer } from '../lib/index.js';
import { MAX_CLUSTER_NODES, MAX_REQUEST_ID_LENGTH, MAX_SNAPSHOT_BYTES } from './constants.js';
import { MAX_SHARED_ENTRY_DATA_BYTES } from './entry-columns.js';
import { MessageDecodeError } from './errors.js';
import type {
  ClusterConfig,
  Entry,
  EntryKind,
  Message,
  MessageType,
  NodeId,
  SnapshotMetadata,
} from './types.js';

/**
 * Compact binary form of `Message` for the transport. Layout: a version byte, a type byte,
 * then unsigned LEB128 varints for numbers, a byte for booleans and entry kinds, and a varint
 * length before every byte string and UTF-8 string. The decoder checks every length against
 * the bytes actually left before allocating anything.
 */
export const MESSAGE_CODEC_VERSION = 2;
/** Version 1 had no `answerOnlyIfRefused` byte in an append; still read, as false. */
const PREVIOUS_MESSAGE_CODEC_VERSION = 1;

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
function messageDecodeError(what: string, problem: string): MessageDecodeError {
  return new MessageDecodeError(what, problem);
}

function writeNodes(writer: Writer, nodes: readonly NodeId[]): void {
  writer.varuint(nodes.length);
  for (const node of nodes) writer.varuint(node);
}

function readNode(reader: Reader): NodeId {
  const value = reader.varuint();
  if (!isNodeId(value)) reader.fail(`node id ${value}`);
  return value;
}

function readNodes(reader: Reader): NodeId[] {
  const count = reader.count(1, MAX_CLUSTER_NODES);
  const nodes: NodeId[] = [];
  for (let index = 0; index < count; index++) nodes.push(readNode(reader));
  return nodes;
}

function writeConfig(writer: Writer, config: ClusterConfig): void {
  writeNodes(writer, config.voters);
  writeNodes(writer, config.learners);
  writeNodes(writer, config.outgoingVoters);
}

function readConfig(reader: Reader): ClusterConfig {
  return { voters: readNodes(reader), learners: readNodes(reader), outgoingVoters: readNodes(reader) };
}

function writeMetadata(writer: Writer, metadata: SnapshotMetadata): void {
  writer.varuint(metadata.index);
  writer.varuint(metadata.term);
  writeConfig(writer, metadata.config);
}

function readMetadata(reader: Reader): SnapshotMetadata {
  const index = reader.varuint();
  const term = reader.varuint();
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

/**
 * The message's bytes, behind `headroomBytes` zero bytes a peer link may write its header into,
 * in transient memory (`BinaryWriter.finishTransient`: slices of Node's pool below 4 KiB): a
 * message is sent and dropped, so a buffer of its own per message (every append and its answer)
 * would only be one more ArrayBuffer.
 */
export function encodeMessage(message: Message, headroomBytes = 0): Uint8Array {
  return encodeWithScratch(
    Writer.scratch(headroomBytes + estimateBytes(message)),
    (writer) => {
      for (let index = 0; index < headroomBytes; index++) writer.byte(0);
      writeMessage(writer, message);
    },
    (writer) => writer.finishTransient(),
  );
}

function writeMessage(writer: Writer, message: Message): void {
  writer.byte(MESSAGE_CODEC_VERSION);
  writer.byte(TYPE_TAGS.get(message.type)!);
  writer.varuint(message.from);
  writer.varuint(message.to);
  writer.varuint(message.term);
  switch (message.type) {
    case 'vote':
    case 'preVote':
      writer.varuint(message.lastLogIndex);
      writer.varuint(message.lastLogTerm);
      writer.byte(message.transfer ? 1 : 0);
      break;
    case 'voteResponse':
    case 'preVoteResponse':
      writer.byte(message.granted ? 1 : 0);
      break;
    case 'append':
      writer.varuint(message.prevIndex);
      writer.varuint(message.prevTerm);
      writer.varuint(message.commit);
      writer.varuint(message.entries.length);
      for (const entry of message.entries) {
        writer.varuint(entry.term);
        writer.varuint(entry.index);
        writer.byte(KIND_TAGS.get(entry.kind)!);
        writer.bytes(entry.data);
      }
      writer.byte(message.answerOnlyIfRefused === true ? 1 : 0);
      break;
    case 'appendResponse':
      writer.byte(message.success ? 1 : 0);
      writer.varuint(message.index);
      writer.varuint(message.conflictTerm);
      writer.varuint(message.conflictIndex);
      break;
    case 'heartbeat':
      writer.varuint(message.commit);
      writer.text(message.context);
      writer.varuint(message.sentTick);
      break;
    case 'heartbeatResponse':
      writer.text(message.context);
      writer.varuint(message.sentTick);
      break;
    case 'snapshot':
      writeMetadata(writer, message.metadata);
      writer.varuint(message.offset);
      writer.varuint(message.totalBytes);
      writer.bytes(message.data);
      break;
    case 'snapshotResponse':
      writer.varuint(message.index);
      writer.varuint(message.nextOffset);
      break;
    case 'timeoutNow':
      break;
    case 'readIndex':
      writer.text(message.requestId);
      break;
    case 'readIndexResponse':
      writer.text(message.requestId);
      writer.varuint(message.index);
      writer.byte(message.success ? 1 : 0);
      break;
  }
}

/** Decodes one message; any malformed input throws `MessageDecodeError` (code BAD_MESSAGE). */
export function decodeMessage(bytes: Uint8Array): Message {
  const reader = new Reader(bytes, 'message', messageDecodeError);
  const version = reader.byte();
  if (version !== MESSAGE_CODEC_VERSION && version !== PREVIOUS_MESSAGE_CODEC_VERSION)
    reader.fail(`unsupported version ${version}`);
  const type = MESSAGE_TYPES[reader.byte()];
  if (type === undefined) return reader.fail('unknown message type');
  const from = readNode(reader);
  const to = readNode(reader);
  const term = reader.varuint();
  const header = { from, to, term };
  let message: Message;
  switch (type) {
    case 'vote':
    case 'preVote': {
      const lastLogIndex = reader.varuint();
      const lastLogTerm = reader.varuint();
      message = { type, ...header, lastLogIndex, lastLogTerm, transfer: reader.boolean() };
      break;
    }
    case 'voteResponse':
    case 'preVoteResponse':
      message = { type, ...header, granted: reader.boolean() };
      break;
    case 'append': {
      const prevIndex = reader.varuint();
      const prevTerm = reader.varuint();
      const commit = reader.varuint();
      // An entry takes at least 4 bytes: term, index, kind, data length.
      const count = reader.count(4, Number.MAX_SAFE_INTEGER);
      const entries: Entry[] = [];
      for (let position = 0; position < count; position++) {
        const entryTerm = reader.varuint();
        const index = reader.varuint();
        const kind = ENTRY_KINDS[reader.byte()] ?? reader.fail('unknown entry kind');
        // A view of the message for an entry the log copies into a buffer it shares (the
        // common, small one): a copy here would be one more off-heap allocation per entry. A
        // larger one, which the log keeps as given, is copied so it does not hold the message.
        const view = reader.bytes(Number.MAX_SAFE_INTEGER);
        const data = view.byteLength > MAX_SHARED_ENTRY_DATA_BYTES ? new Uint8Array(view) : view;
        if (index !== prevIndex + position + 1) reader.fail('entry indexes are not consecutive');
        entries.push({ term: entryTerm, index, kind, data });
      }
      const answerOnlyIfRefused = version === PREVIOUS_MESSAGE_CODEC_VERSION ? false : reader.boolean();
      const append: Message = { type, ...header, prevIndex, prevTerm, commit, entries };
      message = answerOnlyIfRefused ? { ...append, answerOnlyIfRefused } : append;
      break;
    }
    case 'appendResponse': {
      const success = reader.boolean();
      const index = reader.varuint();
      const conflictTerm = reader.varuint();
      const conflictIndex = reader.varuint();
      message = { type, ...header, success, index, conflictTerm, conflictIndex };
      break;
    }
    case 'heartbeat': {
      const commit = reader.varuint();
      const context = reader.text(MAX_REQUEST_ID_LENGTH);
      message = { type, ...header, commit, context, sentTick: reader.varuint() };
      break;
    }
    case 'heartbeatResponse': {
      const context = reader.text(MAX_REQUEST_ID_LENGTH);
      message = { type, ...header, context, sentTick: reader.varuint() };
      break;
    }
    case 'snapshot': {
      const metadata = readMetadata(reader);
      const offset = reader.varuint();
      const totalBytes = reader.varuint();
      if (totalBytes > MAX_SNAPSHOT_BYTES) reader.fail('snapshot too large');
      const data = reader.bytesCopy(MAX_SNAPSHOT_BYTES);
      if (offset + data.byteLength > totalBytes) reader.fail('chunk beyond the snapshot');
      message = { type, ...header, metadata, offset, totalBytes, data };
      break;
    }
    case 'snapshotResponse': {
      const index = reader.varuint();
      message = { type, ...header, index, nextOffset: reader.varuint() };
      break;
    }
    case 'timeoutNow':
      message = { type, ...header };
      break;
    case 'readIndex':
      message = { type, ...header, requestId: reader.text(MAX_REQUEST_ID_LENGTH) };
      break;
    case 'readIndexResponse': {
      const requestId = reader.text(MAX_REQUEST_ID_LENGTH);
      const index = reader.varuint();
      message = { type, ...header, requestId, index, success: reader.boolean() };
      break;
    }
  }
  reader.end();
  return message;
}
