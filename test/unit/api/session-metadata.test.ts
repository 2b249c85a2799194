import * as grpc from '@grpc/grpc-js';
import { describe, expect, it } from 'vitest';
import { BadSessionError, sessionFromMetadata } from '../../../src/api/index.js';

function metadata(entries: Record<string, string>): grpc.Metadata {
  const result = new grpc.Metadata();
  for (const [key, value] of Object.entries(entries)) result.set(key, value);
  return result;
}

describe('client session metadata', () => {
  it('is absent for clients that send none', () => {
    expect(sessionFromMetadata(metadata({}))).toBeUndefined();
    expect(sessionFromMetadata(undefined)).toBeUndefined();
  });

  it('reads the client id and sequence', () => {
    expect(sessionFromMetadata(metadata({ 'meshos-client-id': 'c1', 'meshos-sequence': '42' }))).toEqual({
      clientId: 'c1',
      sequence: 42,
    });
  });

  it('rejects half or malformed sessions with a typed error', () => {
    for (const bad of [
      { 'meshos-client-id': 'c1' },
      { 'meshos-sequence': '1' },
      { 'meshos-client-id': 'c1', 'meshos-sequence': '0' },
      { 'meshos-client-id': 'c1', 'meshos-sequence': 'x' },
      { 'meshos-client-id': 'x'.repeat(200), 'meshos-sequence': '1' },
    ]) {
      expect(() => sessionFromMetadata(metadata(bad))).toThrow(BadSessionError);
    }
  });
});
