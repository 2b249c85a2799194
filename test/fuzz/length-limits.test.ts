/**
 * Memory stays bounded: for every length-prefixed format read from a peer, a client or a disk, a
 * length or count field claiming about 4 GB (or 2^53) is refused with the format's typed error
 * before anything of that size is allocated. Allocation is read from `arrayBuffers` (where typed
 * arrays and Buffers live) around the decode; a decoder that trusted the claim would show
 * gigabytes there, or fail to allocate with an untyped RangeError.
 */
import * as zlib from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { ClientStreamFilter, Http2FramingError } from '../../src/api/client-stream-filter.js';
import { CallStatusError } from '../../src/api/grpc-server/call-status-error.js';
import { decodeRequest } from '../../src/api/grpc-server/decode-request.js';
import { MessageReader, MessageTooLargeError } from '../../src/api/grpc-server/index.js';
import type { FramedMessage } from '../../src/api/grpc-server/message-framing.js';
import type { ServedMethod } from '../../src/api/grpc-server/served-methods.js';
import { CLIENT_PREFACE, EMPTY_SETTINGS_FRAME } from '../../src/api/http2-frames.js';
import { etcdServices } from '../../src/api/proto.js';
import { CHAIN_FRAME_FORMAT } from '../../src/chains/chain-record-codec.js';
import { decodeHostFrame } from '../../src/chains/host-messages.js';
import { isMeshError } from '../../src/lib/index.js';
import { decodePeerFrame } from '../../src/mesh/peer-request-frames.js';
import { decodeMessage } from '../../src/raft/index.js';
import { NodeStateMachine } from '../../src/server/index.js';
import { decodeSessionSnapshot } from '../../src/server/session-table.js';
import { crc32c, scanFrames } from '../../src/store/index.js';
import { scanSegment } from '../../src/store/record-frame.js';
import { decodeSnapshot } from '../../src/store/snapshot-file.js';
import { decodeBatch, FrameDecoder } from '../../src/transport/index.js';
import { join } from './support/mutations.js';

/** What a refused claim may allocate at most: small buffers, never the size claimed. */
const BOUNDED_BYTES = 1024 * 1024;
/** A varint of 2^53-1 (the largest a reader takes) and a u32 of 2^32-1. */
const HUGE_VARINT = [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x0f];
const HUGE_U32 = [0xff, 0xff, 0xff, 0xff];

/** Runs `decode`, which must throw an error `expected` accepts, allocating at most `limitBytes`. */
function expectRefusedBounded(
  decode: () => unknown,
  expected: (error: unknown) => boolean,
  limitBytes = BOUNDED_BYTES,
): void {
  const before = process.memoryUsage().arrayBuffers;
  let thrown: unknown;
  try {
    decode();
  } catch (error) {
    thrown = error;
  }
  const grewBytes = process.memoryUsage().arrayBuffers - before;
  expect(thrown, 'the claim was accepted').toBeDefined();
  expect(expected(thrown), `unexpected error: ${String(thrown)}`).toBe(true);
  expect(grewBytes).toBeLessThan(limitBytes);
}

const meshCode = (code: string) => (error: unknown) => isMeshError(error, code);

/** A store/chain record header claiming `payloadBytes`, its header checksum valid. */
function recordHeader(type: number, payloadBytes: number): Uint8Array {
  const header = new Uint8Array(16);
  const view = new DataView(header.buffer);
  view.setUint32(0, payloadBytes, true);
  header[4] = type;
  view.setUint32(8, crc32c(header, 0, 0, 8), true);
  return header;
}

describe('length and count fields claiming gigabytes are refused before allocating', () => {
  it('peer transport: a frame header, a batch count and a batch message length', () => {
    expectRefusedBounded(
      () => [...new FrameDecoder().push(Uint8Array.from([0x4d, 2, 2, 0, ...HUGE_U32]))],
      meshCode('BAD_FRAME'),
    );
    expectRefusedBounded(
      () => decodeBatch(Uint8Array.from([...HUGE_U32, 0, 0, 0, 0])),
      meshCode('BAD_FRAME'),
    );
    expectRefusedBounded(
      () => decodeBatch(Uint8Array.from([0, 0, 0, 1, ...HUGE_U32, 1, 2])),
      meshCode('BAD_FRAME'),
    );
  });

  it('Raft messages, chain channel frames and peer request frames (varint counts and lengths)', () => {
    // An append from 1 to 2 in term 1 after 0/0, commit 0, then 2^53-1 entries.
    expectRefusedBounded(
      () => decodeMessage(Uint8Array.from([1, 4, 1, 2, 1, 0, 0, 0, ...HUGE_VARINT])),
      meshCode('BAD_MESSAGE'),
    );
    // A forwarded append to chain "c" with 2^53-1 payloads.
    expectRefusedBounded(
      () => decodeHostFrame(Uint8Array.from([1, 1, 1, 1, 0x63, 0, ...HUGE_VARINT])),
      meshCode('CHAIN_HOST_MESSAGE'),
    );
    // A request whose JSON header claims 2^53-1 bytes.
    expectRefusedBounded(
      () => decodePeerFrame(Uint8Array.from([0, 1, ...HUGE_VARINT])),
      meshCode('PEER_REQUEST_FRAME_INVALID'),
    );
  });

  it('write-ahead log and chain segments: a record header claiming 4 GB (its checksum valid)', () => {
    expectRefusedBounded(
      () => scanSegment(recordHeader(2, 0xffff_ffff), 'log-0000000000000001.wal', true),
      meshCode('STORE_CORRUPT'),
    );
    expectRefusedBounded(
      () => scanFrames(recordHeader(2, 0xffff_ffff), 'segment', true, CHAIN_FRAME_FORMAT),
      meshCode('CHAIN_LOG_CORRUPT'),
    );
  });

  it('snapshot files: config and data lengths beyond the file', () => {
    const header = new Uint8Array(44);
    const view = new DataView(header.buffer);
    view.setUint32(0, 0x504e534d, true);
    view.setUint32(4, 1, true);
    view.setUint32(8, 5, true);
    view.setUint32(24, 0xffff_ffff, true);
    view.setUint32(32, 0xffff_ffff, true);
    view.setUint32(36, 0x000f_ffff, true);
    view.setUint32(40, crc32c(header, 0, 0, 40), true);
    const before = process.memoryUsage().arrayBuffers;
    expect(decodeSnapshot(header, 5)).toEqual({ ok: false, reason: 'lengths do not match the file size' });
    expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(BOUNDED_BYTES);
  });

  it('node snapshots and session tables: section lengths and counts', () => {
    const nodeHeader = Uint8Array.from([
      0x4d,
      0x53,
      0x4e,
      0x32,
      ...HUGE_U32,
      ...HUGE_U32,
      ...HUGE_U32,
      ...HUGE_U32,
    ]);
    expectRefusedBounded(() => {
      const restore = new NodeStateMachine().startRestoreFrom(nodeHeader.byteLength);
      restore.push(nodeHeader);
    }, meshCode('SNAPSHOT_CORRUPT'));
    expectRefusedBounded(
      () => decodeSessionSnapshot(Uint8Array.from([1, 0, ...HUGE_VARINT])),
      meshCode('BAD_MESSAGE'),
    );
  });

  it('the client port: a gRPC message prefix, an HTTP/2 header block, a compressed and a protobuf message', () => {
    const limitBytes = 4 * 1024 * 1024;
    const messages: FramedMessage[] = [];
    expectRefusedBounded(
      () => new MessageReader(limitBytes).push(Buffer.from([0, ...HUGE_U32, 1, 2, 3]), messages),
      (error) => error instanceof MessageTooLargeError,
    );
    // A prefix at the limit holds at most the limit.
    const reader = new MessageReader(limitBytes);
    const before = process.memoryUsage().arrayBuffers;
    reader.push(Buffer.from([0, 0, 0x40, 0, 0]), messages);
    expect(process.memoryUsage().arrayBuffers - before).toBeLessThanOrEqual(limitBytes + BOUNDED_BYTES);
    // A HEADERS frame announcing 16 MiB, its block growing past 64 KiB.
    const headers = Uint8Array.from([0xff, 0xff, 0xff, 0x1, 0x4, 0, 0, 0, 1]);
    expectRefusedBounded(
      () =>
        new ClientStreamFilter().push(
          join([CLIENT_PREFACE, EMPTY_SETTINGS_FRAME, headers, new Uint8Array(80 * 1024)]),
        ),
      (error) => error instanceof Http2FramingError,
    );
    // 64 MiB of zeros in a few kilobytes of gzip, inflated against a 64 KiB limit.
    const bomb = zlib.gzipSync(Buffer.alloc(64 * 1024 * 1024));
    const passThrough = { deserialize: (bytes: Buffer) => bytes } as unknown as ServedMethod;
    expectRefusedBounded(
      () => decodeRequest(passThrough, { compressed: true, bytes: bomb }, 'gzip', 64 * 1024),
      (error) => error instanceof CallStatusError && error.status.code === 8,
    );
    // A RangeRequest whose key (field 1) claims 2^32-1 bytes.
    const range = Object.values(etcdServices().kv)[0]!;
    const method = { deserialize: range.requestDeserialize } as unknown as ServedMethod;
    expectRefusedBounded(
      () =>
        decodeRequest(
          method,
          { compressed: false, bytes: Buffer.from([0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f, 1]) },
          undefined,
          limitBytes,
        ),
      (error) => error instanceof CallStatusError,
    );
  });
});
