/**
 * The chains channel of the peer transport (PEER_CHANNEL.chains) carries two kinds of traffic:
 * replica messages (the replication protocol's own codec, opaque here) and the node's requests
 * forwarded to a chain's leader (append, read, status) with their answers. One leading byte
 * tells them apart; forwarded requests carry an id their answer names.
 */
import { BinaryReader, BinaryWriter, MeshError } from '../lib/index.js';
import type { ChainEntry, ChainEntryKind } from './types.js';

/** A message on the chains channel did not decode (it is dropped). */
export class ChainHostMessageError extends MeshError {
  constructor(subject: string, problem: string) {
    super('CHAIN_HOST_MESSAGE', `cannot decode ${subject}: ${problem}`);
  }
}

export const HOST_FRAME = { replica: 0, request: 1, answer: 2 } as const;

/** Most payloads in one forwarded append; more are refused when decoding. */
export const MAX_FORWARDED_PAYLOADS = 10_000;
/** Longest chain name a forwarded request carries. */
const MAX_CHAIN_NAME_CHARACTERS = 256;
/** Longest error text a forwarded answer carries. */
const MAX_ERROR_TEXT_CHARACTERS = 4_096;

export type HostRequest =
  | {
      readonly type: 'append';
      readonly chain: string;
      readonly payloads: readonly Uint8Array[];
      /** What is left of the caller's deadline: the leader stops waiting after it. */
      readonly timeoutMs: number;
    }
  | {
      readonly type: 'read';
      readonly chain: string;
      readonly fromOffset: number;
      readonly maxRecords: number;
      readonly maxBytes: number;
      /** When nothing is committed at `fromOffset` yet, wait this long for it (a subscription). */
      readonly waitMs: number;
    }
  | { readonly type: 'status'; readonly chain: string };

export type HostAnswer =
  | {
      readonly type: 'append';
      readonly epoch: number;
      readonly firstOffset: number;
      readonly lastOffset: number;
    }
  | { readonly type: 'read'; readonly entries: readonly ChainEntry[]; readonly commitOffset: number }
  | { readonly type: 'status'; readonly json: string }
  | { readonly type: 'error'; readonly code: string; readonly message: string };

export type HostFrame =
  | { readonly kind: 'replica'; readonly body: Uint8Array }
  | { readonly kind: 'request'; readonly id: number; readonly request: HostRequest }
  | { readonly kind: 'answer'; readonly id: number; readonly answer: HostAnswer };

const REQUEST_TYPE = { append: 1, read: 2, status: 3 } as const;
const ANSWER_TYPE = { append: 1, read: 2, status: 3, error: 4 } as const;
const ENTRY_KIND: Record<ChainEntryKind, number> = { data: 0, 'epoch-start': 1 };

const decodeError = (subject: string, problem: string): Error => new ChainHostMessageError(subject, problem);

export function encodeReplicaFrame(body: Uint8Array): Uint8Array {
  const out = new Uint8Array(body.byteLength + 1);
  out[0] = HOST_FRAME.replica;
  out.set(body, 1);
  return out;
}

export function encodeRequestFrame(id: number, request: HostRequest): Uint8Array {
  const writer = BinaryWriter.scratch().byte(HOST_FRAME.request).varuint(id);
  writer.byte(REQUEST_TYPE[request.type]).text(request.chain);
  switch (request.type) {
    case 'append':
      writer.varuint(request.timeoutMs).varuint(request.payloads.length);
      for (const payload of request.payloads) writer.bytes(payload);
      break;
    case 'read':
      writer
        .varuint(request.fromOffset)
        .varuint(request.maxRecords)
        .varuint(request.maxBytes)
        .varuint(request.waitMs);
      break;
    case 'status':
      break;
  }
  return writer.finish();
}

export function encodeAnswerFrame(id: number, answer: HostAnswer): Uint8Array {
  const writer = BinaryWriter.scratch().byte(HOST_FRAME.answer).varuint(id);
  writer.byte(ANSWER_TYPE[answer.type]);
  switch (answer.type) {
    case 'append':
      writer.varuint(answer.epoch).varuint(answer.firstOffset).varuint(answer.lastOffset);
      break;
    case 'read':
      writer.varuint(answer.commitOffset).varuint(answer.entries.length);
      for (const entry of answer.entries) {
        writer
          .varuint(entry.offset)
          .varuint(entry.epoch)
          .byte(ENTRY_KIND[entry.kind])
          .varuint(entry.appendedAtMs)
          .bytes(entry.payload);
      }
      break;
    case 'status':
      writer.text(answer.json);
      break;
    case 'error':
      writer.text(answer.code).text(answer.message.slice(0, MAX_ERROR_TEXT_CHARACTERS));
      break;
  }
  return writer.finish();
}

/** Decodes one message of the chains channel; throws `ChainHostMessageError` when malformed. */
export function decodeHostFrame(bytes: Uint8Array): HostFrame {
  const reader = new BinaryReader(bytes, 'chains channel message', decodeError);
  const kind = reader.byte();
  if (kind === HOST_FRAME.replica) return { kind: 'replica', body: bytes.subarray(1) };
  const id = reader.varuint();
  let frame: HostFrame;
  if (kind === HOST_FRAME.request) frame = { kind: 'request', id, request: readRequest(reader) };
  else if (kind === HOST_FRAME.answer) frame = { kind: 'answer', id, answer: readAnswer(reader) };
  else return reader.fail(`unknown frame kind ${kind}`);
  reader.end();
  return frame;
}

function readRequest(reader: BinaryReader): HostRequest {
  const type = reader.byte();
  const chain = reader.text(MAX_CHAIN_NAME_CHARACTERS);
  switch (type) {
    case REQUEST_TYPE.append: {
      const timeoutMs = reader.varuint();
      const count = reader.count(1, MAX_FORWARDED_PAYLOADS);
      const payloads: Uint8Array[] = [];
      for (let index = 0; index < count; index++) payloads.push(reader.bytesCopy());
      return { type: 'append', chain, payloads, timeoutMs };
    }
    case REQUEST_TYPE.read:
      return {
        type: 'read',
        chain,
        fromOffset: reader.varuint(),
        maxRecords: reader.varuint(),
        maxBytes: reader.varuint(),
        waitMs: reader.varuint(),
      };
    case REQUEST_TYPE.status:
      return { type: 'status', chain };
    default:
      return reader.fail(`unknown request type ${type}`);
  }
}

function readAnswer(reader: BinaryReader): HostAnswer {
  const type = reader.byte();
  switch (type) {
    case ANSWER_TYPE.append:
      return {
        type: 'append',
        epoch: reader.varuint(),
        firstOffset: reader.varuint(),
        lastOffset: reader.varuint(),
      };
    case ANSWER_TYPE.read: {
      const commitOffset = reader.varuint();
      const count = reader.count(5);
      const entries: ChainEntry[] = [];
      for (let index = 0; index < count; index++) entries.push(readEntry(reader));
      return { type: 'read', entries, commitOffset };
    }
    case ANSWER_TYPE.status:
      return { type: 'status', json: reader.text() };
    case ANSWER_TYPE.error:
      return {
        type: 'error',
        code: reader.text(MAX_ERROR_TEXT_CHARACTERS),
        message: reader.text(MAX_ERROR_TEXT_CHARACTERS),
      };
    default:
      return reader.fail(`unknown answer type ${type}`);
  }
}

function readEntry(reader: BinaryReader): ChainEntry {
  const offset = reader.varuint();
  const epoch = reader.varuint();
  const kindByte = reader.byte();
  const kind: ChainEntryKind | undefined =
    kindByte === ENTRY_KIND.data
      ? 'data'
      : kindByte === ENTRY_KIND['epoch-start']
        ? 'epoch-start'
        : undefined;
  if (kind === undefined) return reader.fail(`unknown entry kind ${kindByte}`);
  return { offset, epoch, kind, appendedAtMs: reader.varuint(), payload: reader.bytesCopy() };
}
