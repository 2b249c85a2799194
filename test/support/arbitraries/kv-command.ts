/** fast-check values of every KV command (the codec's round trip test and the fuzzers). */
import fc from 'fast-check';
import type { KvCommand, RequestOp } from '../../../src/kv/index.js';

const bytes = fc.uint8Array({ maxLength: 12 });
const nonEmpty = fc.uint8Array({ minLength: 1, maxLength: 12 });
const count = fc.nat({ max: 2 ** 40 });

const range = fc.record(
  {
    type: fc.constant('range' as const),
    key: nonEmpty,
    rangeEnd: nonEmpty,
    limit: fc.integer({ min: 1, max: 1000 }),
    revision: fc.integer({ min: 1, max: 2 ** 50 }),
    sortOrder: fc.constantFrom('ascend' as const, 'descend' as const),
    sortTarget: fc.constantFrom('version' as const, 'create' as const, 'mod' as const, 'value' as const),
    keysOnly: fc.constant(true as const),
    countOnly: fc.constant(true as const),
    serializable: fc.constant(true as const),
    minModRevision: fc.integer({ min: 1, max: 99 }),
  },
  { requiredKeys: ['type', 'key'] },
);
const put = fc.record(
  {
    type: fc.constant('put' as const),
    key: nonEmpty,
    value: bytes,
    lease: fc.integer({ min: 1, max: 2 ** 53 - 1 }),
    prevKv: fc.constant(true as const),
    ignoreValue: fc.constant(true as const),
    ignoreLease: fc.constant(true as const),
  },
  { requiredKeys: ['type', 'key', 'value'] },
);
const deleteRange = fc.record(
  {
    type: fc.constant('deleteRange' as const),
    key: nonEmpty,
    rangeEnd: nonEmpty,
    prevKv: fc.constant(true as const),
  },
  { requiredKeys: ['type', 'key'] },
);
const compare = fc.oneof(
  fc.record({
    key: nonEmpty,
    target: fc.constant('value' as const),
    result: fc.constantFrom('equal' as const, 'notEqual' as const, 'less' as const, 'greater' as const),
    value: bytes,
  }),
  fc.record({
    key: nonEmpty,
    target: fc.constantFrom('version' as const, 'create' as const, 'mod' as const, 'lease' as const),
    result: fc.constantFrom('equal' as const, 'notEqual' as const, 'less' as const, 'greater' as const),
    number: count,
  }),
);
const { op } = fc.letrec<{ op: RequestOp; txn: RequestOp }>((tie) => ({
  op: fc.oneof({ depthSize: 'small' }, range, put, deleteRange, tie('txn')),
  txn: fc.record({
    type: fc.constant('txn' as const),
    compare: fc.array(compare, { maxLength: 3 }),
    success: fc.array(tie('op'), { maxLength: 3 }),
    failure: fc.array(tie('op'), { maxLength: 3 }),
  }),
}));
export const kvCommandArbitrary: fc.Arbitrary<KvCommand> = fc.oneof(
  op,
  fc.record({ type: fc.constant('compact' as const), revision: count }),
  fc.record({ type: fc.constant('leaseGrant' as const), id: count, ttlSeconds: count }),
  fc.record({ type: fc.constant('leaseRevoke' as const), id: count }),
);
