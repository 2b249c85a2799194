import { describe, expect, it } from 'vitest';
import { AssertionError } from '../../../src/lib/index.js';
import {
  decodeBatch,
  decodeHandshake,
  encodeFrame,
  encodeHandshake,
  encodeMessagesFrame,
  FRAME_HEADER_BYTES,
  FrameDecoder,
  FrameError,
  FrameType,
  MAX_BATCH_MESSAGES,
  PROTOCOL_VERSION,
} from '../../../src/transport/index.js';

const bytes = (...values: number[]) => Uint8Array.from(values);

function header(magic: number, version: number, type: number, flags: number, length: number): Uint8Array {
  const result = new Uint8Array(FRAME_HEADER_BYTES);
  result.set([magic, version, type, flags]);
  new DataView(result.buffer).setUint32(4, length);
  return result;
}

function decodeAll(decoder: FrameDecoder, chunk: Uint8Array) {
  return [...decoder.push(chunk)];
}

function frameErrorOf(action: () => unknown): FrameError {
  try {
    action();
  } catch (error) {
    expect(error).toBeInstanceOf(FrameError);
    expect((error as FrameError).code).toBe('BAD_FRAME');
    return error as FrameError;
  }
  throw new Error('expected a FrameError');
}

describe('frame codec', () => {
  it('round-trips a frame through the decoder', () => {
    const frame = { type: FrameType.message, flags: 0, payload: bytes(1, 2, 3) };
    const decoded = decodeAll(new FrameDecoder(), encodeFrame(frame));
    expect(decoded).toEqual([frame]);
  });

  it('decodes an empty payload and several frames in one chunk', () => {
    const first = encodeFrame({ type: FrameType.message, flags: 0, payload: new Uint8Array(0) });
    const second = encodeFrame({ type: FrameType.message, flags: 0, payload: bytes(9) });
    const decoded = decodeAll(new FrameDecoder(), new Uint8Array([...first, ...second]));
    expect(decoded.map((frame) => [...frame.payload])).toEqual([[], [9]]);
  });

  it('yields frames completed before a bad one, then fails', () => {
    const good = encodeFrame({ type: FrameType.message, flags: 0, payload: bytes(7) });
    const decoder = new FrameDecoder();
    const seen: number[][] = [];
    const error = frameErrorOf(() => {
      for (const frame of decoder.push(new Uint8Array([...good, 0x00, 1, 2, 3, 0, 0, 0, 0])))
        seen.push([...frame.payload]);
    });
    expect(seen).toEqual([[7]]);
    expect(error.problem).toBe('bad-magic');
  });

  it.each([
    ['bad-magic', header(0x4e, PROTOCOL_VERSION, FrameType.message, 0, 1)],
    ['bad-version', header(0x4d, PROTOCOL_VERSION + 1, FrameType.message, 0, 1)],
    ['unknown-type', header(0x4d, PROTOCOL_VERSION, 99, 0, 1)],
    ['bad-flags', header(0x4d, PROTOCOL_VERSION, FrameType.message, 0x80, 1)],
    ['oversized', header(0x4d, PROTOCOL_VERSION, FrameType.message, 0, 0xffff_ffff)],
  ])('rejects a header with %s, naming the problem', (problem, bad) => {
    const error = frameErrorOf(() => decodeAll(new FrameDecoder(), bad));
    expect(error.problem).toBe(problem);
    expect(error.message).toContain(problem);
  });

  it('checks the length against the limit before allocating the payload', () => {
    const decoder = new FrameDecoder(16);
    const error = frameErrorOf(() =>
      decodeAll(decoder, header(0x4d, PROTOCOL_VERSION, FrameType.message, 0, 17)),
    );
    expect(error.details).toMatchObject({ payloadBytes: 17, maxPayloadBytes: 16 });
    expect(decoder.bufferedBytes()).toBe(0);
    expect(
      decodeAll(new FrameDecoder(16), encodeFrame({ type: 2, flags: 0, payload: new Uint8Array(16) })),
    ).toHaveLength(1);
  });

  it('applies a changed limit to the next header', () => {
    const decoder = new FrameDecoder(4);
    const large = encodeFrame({ type: FrameType.message, flags: 0, payload: new Uint8Array(10) });
    decoder.setMaxPayloadBytes(10);
    expect(decodeAll(decoder, large)).toHaveLength(1);
    decoder.setMaxPayloadBytes(4);
    expect(frameErrorOf(() => decodeAll(decoder, large)).problem).toBe('oversized');
  });

  it('stays failed after an error', () => {
    const decoder = new FrameDecoder();
    frameErrorOf(() => decodeAll(decoder, bytes(0, 0, 0, 0, 0, 0, 0, 0)));
    const again = frameErrorOf(() =>
      decodeAll(decoder, encodeFrame({ type: 2, flags: 0, payload: bytes(1) })),
    );
    expect(again.problem).toBe('bad-magic');
  });

  it('reports a stream that ends inside a header or a payload as truncated', () => {
    const frame = encodeFrame({ type: FrameType.message, flags: 0, payload: bytes(1, 2, 3, 4) });
    const inHeader = new FrameDecoder();
    decodeAll(inHeader, frame.subarray(0, 3));
    expect(frameErrorOf(() => inHeader.finish()).problem).toBe('truncated');
    const inPayload = new FrameDecoder();
    decodeAll(inPayload, frame.subarray(0, FRAME_HEADER_BYTES + 2));
    expect(frameErrorOf(() => inPayload.finish()).problem).toBe('truncated');
    const complete = new FrameDecoder();
    decodeAll(complete, frame);
    expect(() => complete.finish()).not.toThrow();
  });

  it('hands out a frame whole inside its chunk as a view of the chunk, and gathers a split one', () => {
    const first = encodeFrame({ type: FrameType.message, flags: 0, payload: bytes(1, 2, 3) });
    const second = encodeFrame({ type: FrameType.message, flags: 0, payload: bytes(4, 5, 6, 7) });
    const stream = new Uint8Array([...first, ...second]);
    // The first frame and part of the second in one chunk, the rest of the second in the next.
    const cut = first.length + FRAME_HEADER_BYTES + 2;
    // A Buffer, as sockets hand out: the views must still be plain Uint8Arrays (whose slice copies).
    const chunkA = Buffer.from(stream.subarray(0, cut));
    const chunkB = stream.slice(cut);
    const decoder = new FrameDecoder();
    const [whole] = decodeAll(decoder, chunkA);
    expect(whole?.payload.buffer).toBe(chunkA.buffer);
    expect(Buffer.isBuffer(whole?.payload)).toBe(false);
    const [split] = decodeAll(decoder, chunkB);
    expect(split?.payload.buffer).not.toBe(chunkA.buffer);
    expect(split?.payload.buffer).not.toBe(chunkB.buffer);
    // Later chunks leave what was handed out before as it was.
    decodeAll(decoder, encodeFrame({ type: FrameType.message, flags: 0, payload: bytes(9, 9, 9) }));
    expect([...whole!.payload]).toEqual([1, 2, 3]);
    expect([...split!.payload]).toEqual([4, 5, 6, 7]);
  });

  it('checks the header of a frame whole inside its chunk as it checks a gathered one', () => {
    const oversized = new Uint8Array([
      ...header(0x4d, PROTOCOL_VERSION, FrameType.message, 0, 5),
      1,
      2,
      3,
      4,
      5,
    ]);
    expect(frameErrorOf(() => decodeAll(new FrameDecoder(4), oversized)).problem).toBe('oversized');
    const flagged = new Uint8Array([...header(0x4d, PROTOCOL_VERSION, FrameType.message, 1, 1), 1]);
    expect(frameErrorOf(() => decodeAll(new FrameDecoder(), flagged)).problem).toBe('bad-flags');
    // Every byte of the length counts, the top one as unsigned.
    const huge = header(0x4d, PROTOCOL_VERSION, FrameType.message, 0, 0xffff_fff0);
    expect(frameErrorOf(() => decodeAll(new FrameDecoder(), huge)).problem).toBe('oversized');
    const large = new Uint8Array(0x01_0203);
    const frame = encodeFrame({ type: FrameType.message, flags: 0, payload: large });
    expect(decodeAll(new FrameDecoder(), frame)[0]?.payload.length).toBe(large.length);
  });

  it('refuses bytes after finish', () => {
    const decoder = new FrameDecoder();
    decoder.finish();
    expect(frameErrorOf(() => decodeAll(decoder, bytes(0x4d))).problem).toBe('decoder-failed');
  });
});

describe('batch frames', () => {
  it('puts one message in a message frame and several in a batch frame', () => {
    const single = decodeAll(new FrameDecoder(), encodeMessagesFrame([bytes(1)]));
    expect(single[0]?.type).toBe(FrameType.message);
    const [batch] = decodeAll(
      new FrameDecoder(),
      encodeMessagesFrame([bytes(1), new Uint8Array(0), bytes(2, 3)]),
    );
    expect(batch?.type).toBe(FrameType.batch);
    expect(decodeBatch(batch!.payload).map((message) => [...message])).toEqual([[1], [], [2, 3]]);
  });

  function batchPayload(count: number, ...lengthsAndBytes: number[][]): Uint8Array {
    const parts = [new Uint8Array(4), ...lengthsAndBytes.map((part) => Uint8Array.from(part))];
    new DataView(parts[0]!.buffer).setUint32(0, count);
    return new Uint8Array(parts.flatMap((part) => [...part]));
  }

  it.each([
    ['too short for its count', new Uint8Array(3)],
    ['zero messages', batchPayload(0)],
    ['more messages than allowed', batchPayload(MAX_BATCH_MESSAGES + 1)],
    ['more messages than bytes', batchPayload(3, [0, 0, 0, 0])],
    ['a length past the end', batchPayload(1, [0, 0, 0, 9, 1])],
    ['trailing bytes', batchPayload(1, [0, 0, 0, 1, 5, 6])],
  ])('rejects a batch with %s', (_label, payload) => {
    expect(frameErrorOf(() => decodeBatch(payload)).problem).toBe('bad-batch');
  });
});

describe('handshake frames', () => {
  it('round-trips every NodeId, including those past 32 bits', () => {
    for (const nodeId of [1, 0xffff_fffe, 2 ** 32, 2 ** 32 + 7, Number.MAX_SAFE_INTEGER]) {
      const handshake = { protocolVersion: PROTOCOL_VERSION, clusterId: 'grüne-wiese', nodeId };
      expect(decodeHandshake(encodeHandshake(handshake).payload)).toEqual(handshake);
    }
  });

  it('refuses a node id that is no NodeId, on both sides', () => {
    const good = encodeHandshake({ protocolVersion: PROTOCOL_VERSION, clusterId: 'c1', nodeId: 1 }).payload;
    const zero = good.slice();
    zero[9] = 0;
    const beyondSafe = good.slice();
    beyondSafe.fill(0xff, 2, 10);
    for (const payload of [zero, beyondSafe]) {
      expect(frameErrorOf(() => decodeHandshake(payload)).problem).toBe('bad-handshake');
    }
    for (const nodeId of [0, -1, 1.5, 2 ** 53]) {
      expect(() => encodeHandshake({ protocolVersion: PROTOCOL_VERSION, clusterId: 'c1', nodeId })).toThrow(
        AssertionError,
      );
    }
  });

  it('rejects wrong versions, lengths and encodings', () => {
    const good = encodeHandshake({ protocolVersion: PROTOCOL_VERSION, clusterId: 'c1', nodeId: 1 }).payload;
    const wrongVersion = good.slice();
    wrongVersion[1] = PROTOCOL_VERSION + 1;
    const badUtf8 = good.slice();
    badUtf8[good.length - 1] = 0xff;
    for (const payload of [good.subarray(0, 5), wrongVersion, good.subarray(0, good.length - 1), badUtf8]) {
      expect(frameErrorOf(() => decodeHandshake(payload)).problem).toBe('bad-handshake');
    }
  });
});
