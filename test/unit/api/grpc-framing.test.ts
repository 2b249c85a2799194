/** The gRPC framing pieces of MeshOS's server: message prefixes across chunks, grpc-timeout, grpc-message. */

import * as grpc from '@grpc/grpc-js';
import { describe, expect, it } from 'vitest';
import { encodeResponse } from '../../../src/api/grpc-server/call-start.js';
import { parseGrpcTimeout, percentEncode } from '../../../src/api/grpc-server/index.js';
import {
  type FramedMessage,
  frameMessage,
  MessageReader,
  MessageTooLargeError,
} from '../../../src/api/grpc-server/message-framing.js';

const text = (message: FramedMessage): string => message.bytes.toString();

describe('MessageReader', () => {
  const stream = Buffer.concat([
    frameMessage(Buffer.from('first')),
    frameMessage(Buffer.alloc(0)),
    frameMessage(Buffer.from('third one')),
  ]);

  it('cuts whole messages out of one chunk as views of it', () => {
    const messages: FramedMessage[] = [];
    new MessageReader(100).push(stream, messages);
    expect(messages.map(text)).toEqual(['first', '', 'third one']);
    expect(messages[0]?.bytes.buffer).toBe(stream.buffer);
  });

  it('gathers messages and prefixes split at every byte', () => {
    for (let cut = 1; cut < stream.length; cut++) {
      const reader = new MessageReader(100);
      const messages: FramedMessage[] = [];
      reader.push(stream.subarray(0, cut), messages);
      reader.push(stream.subarray(cut), messages);
      expect(messages.map(text)).toEqual(['first', '', 'third one']);
      expect(reader.holdsPartial).toBe(false);
    }
  });

  it('refuses a message over the limit from its prefix alone', () => {
    const prefix = frameMessage(Buffer.alloc(101)).subarray(0, 5);
    expect(() => new MessageReader(100).push(prefix, [])).toThrow(MessageTooLargeError);
  });
});

describe('grpc-timeout', () => {
  it('reads every unit, rounding up to a millisecond', () => {
    expect(parseGrpcTimeout('2H')).toBe(7_200_000);
    expect(parseGrpcTimeout('3M')).toBe(180_000);
    expect(parseGrpcTimeout('5S')).toBe(5_000);
    expect(parseGrpcTimeout('250m')).toBe(250);
    expect(parseGrpcTimeout('1500u')).toBe(2);
    expect(parseGrpcTimeout('1n')).toBe(1);
  });

  it('refuses what the protocol does not allow', () => {
    for (const bad of ['', '5', 'S', '123456789S', '5s', '-5S', '5 S'])
      expect(parseGrpcTimeout(bad)).toBeUndefined();
  });
});

describe('grpc-message', () => {
  it('percent-encodes bytes outside printable ASCII and the percent sign', () => {
    expect(percentEncode('plain text: ok')).toBe('plain text: ok');
    expect(percentEncode('50% off\r\n')).toBe('50%25 off%0D%0A');
    expect(percentEncode('schön ✓')).toBe('sch%C3%B6n %E2%9C%93');
  });
});

describe('encodeResponse', () => {
  const method = {
    path: '/test.Echo/Echo',
    kind: 'unary' as const,
    deserialize: (bytes: Buffer) => bytes,
    serialize: (value: unknown) => {
      if (typeof value !== 'string') throw new TypeError('not a string');
      return Buffer.from(value);
    },
    handler: () => {},
  };
  const limits = { receiveMessageBytes: 8, sendMessageBytes: 8 };

  it('answers the bytes of a message within the send limit', () => {
    expect(encodeResponse(method, limits, 'eight ch')).toEqual(Buffer.from('eight ch'));
  });

  it('answers RESOURCE_EXHAUSTED for a message over the send limit', () => {
    expect(encodeResponse(method, limits, 'nine char')).toEqual({
      code: grpc.status.RESOURCE_EXHAUSTED,
      details: 'Sent message larger than max (9 vs. 8)',
    });
  });

  it('answers INTERNAL for a message that does not serialize', () => {
    expect(encodeResponse(method, limits, 42)).toEqual({
      code: grpc.status.INTERNAL,
      details: 'Error serializing response',
    });
  });
});
