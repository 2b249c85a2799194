import { assertNever, BinaryReader, BinaryWriter } from '../lib/index.js';
import { ChainMessageDecodeError } from './errors.js';
import {
  MAX_CHAIN_NAME_BYTES,
  MAX_CLAIM_HISTORY_ENTRIES,
  MAX_MESSAGE_RECORDS,
  MAX_RECORD_PAYLOAD_BYTES,
} from './replica-constants.js';
import type { ChainReplicaMessage, ChainReplicaMessageType, Divergence } from './replica-messages.js';
import type { ChainEntry, ChainEntryKind, EpochStart } from './types.js';

/** Bumped when the layout changes; a replica refuses messages of another version. */
const CHAIN_MESSAGE_CODEC_VERSION = 1;
const MESSAGE_TYPES: readonly ChainReplicaMessageType[] = [
  'claim',
  'claimAck',
  'epochRefused',
  'append',
  'appendAck',
  'appendRefused',
  'fetch',
  'fetchReply',
];
const ENTRY_KINDS: readonly ChainEntryKind[] = ['data', 'epoch-start'];
/** Smallest encoding of one entry: epoch, kind, time and an empty payload. */
const MINIMUM_ENTRY_BYTES = 4;

function decodeError(subject: string, problem: string): ChainMessageDecodeError {
  return new ChainMessageDecodeError(subject, problem);
}

function writeEntries(writer: BinaryWriter, entries: readonly ChainEntry[]): void {
  writer.varuint(entries.length);
  for (const entry of entries) {
    writer.varuint(entry.epoch);
    writer.byte(ENTRY_KINDS.indexOf(entry.kind));
    writer.varuint(entry.appendedAtMs);
    writer.bytes(entry.payload);
  }
}

/** Entries are sent without their offsets: they run on from `fromOffset`. */
function readEntries(reader: BinaryReader, fromOffset: number): ChainEntry[] {
  const count = reader.count(MINIMUM_ENTRY_BYTES, MAX_MESSAGE_RECORDS);
  const entries: ChainEntry[] = [];
  for (let index = 0; index < count; index++) {
    const epoch = reader.varuint();
    const kind = ENTRY_KINDS[reader.byte()];
    if (kind === undefined) reader.fail('unknown record kind');
    const appendedAtMs = reader.varuint();
    const payload = reader.bytesCopy(MAX_RECORD_PAYLOAD_BYTES);
    entries.push({ offset: fromOffset + index, epoch, kind, appendedAtMs, payload });
  }
  return entries;
}

function writeHistory(writer: BinaryWriter, history: readonly EpochStart[]): void {
  writer.varuint(history.length);
  for (const start of history) writer.varuint(start.epoch).varuint(start.offset);
}

function readHistory(reader: BinaryReader): EpochStart[] {
  const count = reader.count(2, MAX_CLAIM_HISTORY_ENTRIES);
  const history: EpochStart[] = [];
  for (let index = 0; index < count; index++)
    history.push({ epoch: reader.varuint(), offset: reader.varuint() });
  return history;
}

function writeDivergence(writer: BinaryWriter, divergence: Divergence): void {
  writer.varuint(divergence.resumeOffset).varuint(divergence.conflictEpoch);
}

function readDivergence(reader: BinaryReader): Divergence {
  return { resumeOffset: reader.varuint(), conflictEpoch: reader.varuint() };
}

/** The message's bytes (without the peer channel byte, which the host adds). */
export function encodeChainMessage(message: ChainReplicaMessage): Uint8Array {
  const writer = BinaryWriter.scratch();
  writer.byte(CHAIN_MESSAGE_CODEC_VERSION).byte(MESSAGE_TYPES.indexOf(message.type));
  writer.text(message.chain).varuint(message.epoch);
  switch (message.type) {
    case 'claim':
      writer.varuint(message.sentAtMs);
      break;
    case 'claimAck':
      writer.varuint(message.startOffset).varuint(message.endOffset).varuint(message.lastEpoch);
      writer.varuint(message.echoMs);
      writeHistory(writer, message.historyTail);
      break;
    case 'epochRefused':
      writer.varuint(message.promisedEpoch);
      break;
    case 'append':
      writer.varuint(message.fromOffset).varuint(message.prevEpoch).varuint(message.commitOffset);
      writer.varuint(message.sentAtMs);
      writeEntries(writer, message.entries);
      break;
    case 'appendAck':
      writer.varuint(message.matchEnd).varuint(message.echoMs);
      break;
    case 'appendRefused':
      writer.varuint(message.fromOffset).varuint(message.echoMs);
      writeDivergence(writer, message);
      break;
    case 'fetch':
      writer.varuint(message.fromOffset).varuint(message.prevEpoch);
      break;
    case 'fetchReply':
      writer.varuint(message.fromOffset);
      writer.boolean(message.divergence !== undefined);
      if (message.divergence !== undefined) writeDivergence(writer, message.divergence);
      writeEntries(writer, message.entries);
      break;
    default:
      assertNever(message, 'chain message');
  }
  return writer.finish();
}

/** Decodes a message; bad bytes fail with `ChainMessageDecodeError` (CHAIN_MESSAGE_INVALID). */
export function decodeChainMessage(bytes: Uint8Array): ChainReplicaMessage {
  const reader = new BinaryReader(bytes, 'chain message', decodeError);
  const version = reader.byte();
  if (version !== CHAIN_MESSAGE_CODEC_VERSION) reader.fail(`unsupported version ${version}`);
  const type = MESSAGE_TYPES[reader.byte()];
  if (type === undefined) return reader.fail('unknown message type');
  const chain = reader.text(MAX_CHAIN_NAME_BYTES);
  const epoch = reader.varuint();
  const message = decodeBody(reader, type, chain, epoch);
  reader.end();
  return message;
}

function decodeBody(
  reader: BinaryReader,
  type: ChainReplicaMessageType,
  chain: string,
  epoch: number,
): ChainReplicaMessage {
  switch (type) {
    case 'claim':
      return { type, chain, epoch, sentAtMs: reader.varuint() };
    case 'claimAck': {
      const startOffset = reader.varuint();
      const endOffset = reader.varuint();
      const lastEpoch = reader.varuint();
      const echoMs = reader.varuint();
      return {
        type,
        chain,
        epoch,
        startOffset,
        endOffset,
        lastEpoch,
        echoMs,
        historyTail: readHistory(reader),
      };
    }
    case 'epochRefused':
      return { type, chain, epoch, promisedEpoch: reader.varuint() };
    case 'append': {
      const fromOffset = reader.varuint();
      const prevEpoch = reader.varuint();
      const commitOffset = reader.varuint();
      const sentAtMs = reader.varuint();
      return {
        type,
        chain,
        epoch,
        fromOffset,
        prevEpoch,
        commitOffset,
        sentAtMs,
        entries: readEntries(reader, fromOffset),
      };
    }
    case 'appendAck': {
      const matchEnd = reader.varuint();
      return { type, chain, epoch, matchEnd, echoMs: reader.varuint() };
    }
    case 'appendRefused': {
      const fromOffset = reader.varuint();
      const echoMs = reader.varuint();
      return { type, chain, epoch, fromOffset, echoMs, ...readDivergence(reader) };
    }
    case 'fetch': {
      const fromOffset = reader.varuint();
      return { type, chain, epoch, fromOffset, prevEpoch: reader.varuint() };
    }
    case 'fetchReply': {
      const fromOffset = reader.varuint();
      const divergence = reader.boolean() ? readDivergence(reader) : undefined;
      return { type, chain, epoch, fromOffset, divergence, entries: readEntries(reader, fromOffset) };
    }
    default:
      return assertNever(type, 'chain message type');
  }
}
