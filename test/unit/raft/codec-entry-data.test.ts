import { describe, expect, it } from 'vitest';
import { MAX_SHARED_ENTRY_DATA_BYTES } from '../../../src/raft/entry-columns.js';
import { decodeMessage, encodeMessage, MESSAGE_CODEC_VERSION } from '../../../src/raft/index.js';
import type { AppendRequest, Message } from '../../../src/raft/types.js';

/** An append from 1 to 2 at term 3 carrying one entry per `data`, from index 11 on. */
function append(...data: Uint8Array[]): Message {
  return {
    type: 'append',
    from: 1,
    to: 2,
    term: 3,
    prevIndex: 10,
    prevTerm: 3,
    commit: 9,
    entries: data.map((bytes, offset) => ({ term: 3, index: 11 + offset, kind: 'normal', data: bytes })),
  };
}

describe('append message entry data', () => {
  it('decodes the entries as sent; a large one, which the log keeps as given, in a buffer of its own', () => {
    const small = new Uint8Array(300).fill(1);
    const large = new Uint8Array(MAX_SHARED_ENTRY_DATA_BYTES + 1).fill(2);
    const sent = append(small, large);
    const payload = encodeMessage(sent);
    const received = decodeMessage(payload) as AppendRequest;
    expect(received.entries.map((entry) => [...entry.data])).toEqual([[...small], [...large]]);
    const [first, second] = received.entries;
    // The small entry is read in place: the log copies it into a buffer it shares.
    expect(first?.data.buffer).toBe(payload.buffer);
    // The large one must not hold the whole received message alive for as long as the log keeps it.
    expect(second?.data.buffer).not.toBe(payload.buffer);
    expect(second?.data.buffer.byteLength).toBe(large.byteLength);
  });

  it('encodes a small message into shared transient memory, which a later encoding leaves alone', () => {
    const first = encodeMessage(append(new Uint8Array(300).fill(1)));
    // A slice of a shared pool, not an ArrayBuffer of its own per message.
    expect(first.buffer.byteLength).toBeGreaterThan(first.byteLength);
    const kept = [...first];
    encodeMessage(append(new Uint8Array(300).fill(2)));
    expect([...first]).toEqual(kept);
    expect((decodeMessage(first) as AppendRequest).entries[0]?.data.every((byte) => byte === 1)).toBe(true);
  });

  it('leaves zeroed headroom before the message when asked', () => {
    const message: Message = {
      type: 'appendResponse',
      from: 2,
      to: 1,
      term: 3,
      success: true,
      index: 12,
      conflictTerm: 0,
      conflictIndex: 0,
    };
    const plain = encodeMessage(message);
    const behind = encodeMessage(message, 9);
    expect([...behind.subarray(0, 9)]).toEqual(new Array(9).fill(0));
    expect([...behind.subarray(9)]).toEqual([...plain]);
    expect(decodeMessage(behind.subarray(9))).toEqual(message);
  });

  it('carries answerOnlyIfRefused, and reads a version 1 append (which had no such byte) as without it', () => {
    const quiet = { ...append(), answerOnlyIfRefused: true } as Message;
    expect(decodeMessage(encodeMessage(quiet))).toEqual(quiet);
    const current = encodeMessage(append(new Uint8Array([7])));
    expect(current[0]).toBe(MESSAGE_CODEC_VERSION);
    // Version 1's bytes: the same fields without the trailing flag byte.
    const versionOne = Uint8Array.from(current.subarray(0, current.byteLength - 1));
    versionOne[0] = 1;
    const decoded = decodeMessage(versionOne) as AppendRequest;
    expect(decoded).toEqual(append(new Uint8Array([7])));
    expect(decoded.answerOnlyIfRefused).toBeUndefined();
  });
});
