import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  decodeBatch,
  decodeHandshake,
  encodeFrame,
  encodeMessagesFrame,
  FRAME_HEADER_BYTES,
  type Frame,
  FrameDecoder,
  FrameError,
  FrameType,
} from '../../../src/transport/index.js';

const NUM_RUNS = 200;
const DECODER_LIMIT_BYTES = 4096;

const frameArbitrary: fc.Arbitrary<Frame> = fc.record({
  type: fc.constantFrom(FrameType.handshake, FrameType.message, FrameType.batch),
  flags: fc.constant(0),
  payload: fc.uint8Array({ maxLength: 300 }),
});

/** Cuts `bytes` at the given fractions, giving the chunks a socket might deliver. */
function cut(bytes: Uint8Array, cuts: number[]): Uint8Array[] {
  const points = [...new Set(cuts.map((fraction) => Math.floor(fraction * bytes.length)))].sort(
    (a, b) => a - b,
  );
  const chunks: Uint8Array[] = [];
  let start = 0;
  for (const point of [...points, bytes.length]) {
    chunks.push(bytes.subarray(start, point));
    start = point;
  }
  return chunks;
}

function concat(parts: Uint8Array[]): Uint8Array {
  const total = new Uint8Array(parts.reduce((sum, part) => sum + part.length, 0));
  let offset = 0;
  for (const part of parts) {
    total.set(part, offset);
    offset += part.length;
  }
  return total;
}

/** Decodes everything the decoder accepts; only FrameError may escape, and memory stays bounded. */
function decodeBounded(chunks: Uint8Array[]): { frames: Frame[]; error: FrameError | undefined } {
  const decoder = new FrameDecoder(DECODER_LIMIT_BYTES);
  const frames: Frame[] = [];
  try {
    for (const chunk of chunks) {
      for (const frame of decoder.push(chunk)) {
        frames.push(frame);
        // Also exercise the payload decoders on whatever came through.
        try {
          if (frame.type === FrameType.batch) decodeBatch(frame.payload);
          if (frame.type === FrameType.handshake) decodeHandshake(frame.payload);
        } catch (error) {
          if (!(error instanceof FrameError)) throw error;
        }
      }
      expect(decoder.bufferedBytes()).toBeLessThanOrEqual(FRAME_HEADER_BYTES + DECODER_LIMIT_BYTES);
    }
    decoder.finish();
    return { frames, error: undefined };
  } catch (error) {
    if (error instanceof FrameError) return { frames, error };
    throw error;
  }
}

describe('frame codec properties', () => {
  it('decodes the same frames however the stream is cut', () => {
    fc.assert(
      fc.property(
        fc.array(frameArbitrary, { maxLength: 8 }),
        fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { maxLength: 20 }),
        (frames, cuts) => {
          const stream = concat(frames.map(encodeFrame));
          const { frames: decoded, error } = decodeBounded(cut(stream, cuts));
          expect(error).toBeUndefined();
          expect(decoded).toEqual(frames);
        },
      ),
      { numRuns: NUM_RUNS },
    );
  });

  it('round-trips batches of messages', () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 64 }), { minLength: 1, maxLength: 40 }), (messages) => {
        const { frames } = decodeBounded([encodeMessagesFrame(messages)]);
        expect(frames).toHaveLength(1);
        const frame = frames[0]!;
        const decoded = frame.type === FrameType.batch ? decodeBatch(frame.payload) : [frame.payload];
        expect(decoded).toEqual(messages);
      }),
      { numRuns: NUM_RUNS },
    );
  });

  it('survives random bytes: frames or a FrameError, never anything else', () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 200 }), { maxLength: 10 }), (chunks) => {
        decodeBounded(chunks);
      }),
      { numRuns: NUM_RUNS },
    );
  });

  it('survives mutated valid streams: flipped, inserted and removed bytes', () => {
    const mutation = fc.oneof(
      fc.record({
        kind: fc.constant('flip' as const),
        at: fc.nat(),
        value: fc.integer({ min: 0, max: 255 }),
      }),
      fc.record({
        kind: fc.constant('insert' as const),
        at: fc.nat(),
        value: fc.integer({ min: 0, max: 255 }),
      }),
      fc.record({ kind: fc.constant('remove' as const), at: fc.nat(), value: fc.constant(0) }),
    );
    fc.assert(
      fc.property(
        fc.array(frameArbitrary, { minLength: 1, maxLength: 5 }),
        fc.array(mutation, { minLength: 1, maxLength: 6 }),
        fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { maxLength: 10 }),
        (frames, mutations, cuts) => {
          const bytes = [...concat(frames.map(encodeFrame))];
          for (const change of mutations) {
            const at = change.at % (bytes.length + 1);
            if (change.kind === 'flip' && at < bytes.length) bytes[at] = change.value;
            if (change.kind === 'insert') bytes.splice(at, 0, change.value);
            if (change.kind === 'remove' && at < bytes.length) bytes.splice(at, 1);
          }
          decodeBounded(cut(Uint8Array.from(bytes), cuts));
        },
      ),
      { numRuns: NUM_RUNS },
    );
  });
});
