import { describe, expect, it } from 'vitest';
import {
  chainCreateProblems,
  chainDefinitionProblems,
  decodeChainDefinition,
  encodeChainDefinition,
  MAX_CHAIN_RECORD_BYTES,
  MAX_CHAIN_REPLICAS,
  MAX_CHAIN_SYNC_INTERVAL_MS,
  MIN_CHAIN_RETENTION_BYTES,
  validateChainCreate,
} from '../../../src/chains/index.js';
import { ControlRecordDecodeError } from '../../../src/control/index.js';
import { ValidationError } from '../../../src/lib/index.js';
import { chain } from './placement-fixtures.js';

describe('chain create requests', () => {
  it('fills in the defaults of a minimal request', () => {
    expect(validateChainCreate({ name: 'a.b_c-1' })).toEqual({
      name: 'a.b_c-1',
      replicaCount: 3,
      acks: 'quorum',
      sync: { mode: 'batch' },
      retention: {},
    });
  });

  it('lists every problem at once', () => {
    const problems = chainCreateProblems({
      name: 'has/slash',
      replicas: MAX_CHAIN_REPLICAS + 1,
      acks: 'two',
      sync: { mode: 'interval', intervalMs: MAX_CHAIN_SYNC_INTERVAL_MS + 1 },
      retention: { maxBytes: MIN_CHAIN_RETENTION_BYTES - 1, maxAgeMs: 1.5, forever: true },
      maxRecordBytes: MAX_CHAIN_RECORD_BYTES + 1,
      origin: 0,
      colour: 'red',
    });
    expect(problems).toEqual([
      expect.stringMatching(/^name "has\/slash": .*a chains name is 1 to 128/),
      `replicas must be an integer in [1, ${MAX_CHAIN_REPLICAS}], got ${MAX_CHAIN_REPLICAS + 1}`,
      `acks must be one of 'one', 'quorum', 'all', got "two"`,
      `sync.intervalMs must be an integer in [1, ${MAX_CHAIN_SYNC_INTERVAL_MS}], got ${MAX_CHAIN_SYNC_INTERVAL_MS + 1}`,
      expect.stringMatching(/^retention.maxBytes must be an integer/),
      expect.stringMatching(/^retention.maxAgeMs must be an integer/),
      "retention has an unknown field 'forever'",
      `maxRecordBytes must be an integer in [1, ${MAX_CHAIN_RECORD_BYTES}], got ${MAX_CHAIN_RECORD_BYTES + 1}`,
      'origin must be a node id (a positive safe integer), got 0',
      "request has an unknown field 'colour'",
    ]);
    expect(chainCreateProblems('orders')).toEqual(['request must be an object, got "orders"']);
    expect(() => validateChainCreate({ name: '' })).toThrow(ValidationError);
    expect(validateChainCreate({ name: 'small', maxRecordBytes: 512 }).maxRecordBytes).toBe(512);
  });
});

describe('chain definition codec', () => {
  it('round-trips a definition through its stored bytes', () => {
    const definition = chain('orders', [1, 2, 3], {
      learners: [4],
      origin: 9,
      sync: { mode: 'interval', intervalMs: 50 },
    });
    expect(decodeChainDefinition('chains/orders', encodeChainDefinition(definition))).toEqual(definition);
  });

  it('reads strictly: broken invariants, unknown fields and a name that is not the key are refused', () => {
    expect(
      chainDefinitionProblems({
        ...chain('x', [1, 1, 2], { learners: [2], leader: 5 }),
        extra: 1,
      }),
    ).toEqual([
      'replicas names node 1 twice',
      'learner 2 is also a replica',
      'leader must be one of the replicas from epoch 1 on, got 5',
      "definition has an unknown field 'extra'",
    ]);
    expect(chainDefinitionProblems(chain('x', [1], { epoch: 0 }))).toEqual(['epoch 0 has no leader']);
    const stored = encodeChainDefinition(chain('orders', [1]));
    expect(() => decodeChainDefinition('chains/other', stored)).toThrow(ControlRecordDecodeError);
    expect(() => decodeChainDefinition('chains/orders', new TextEncoder().encode('{"name":'))).toThrow(
      ControlRecordDecodeError,
    );
  });
});
