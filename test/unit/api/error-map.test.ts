import { status } from '@grpc/grpc-js';
import { describe, expect, it } from 'vitest';
import { ETCD_ERRORS, grpcFailureOf, MemberNotFoundError } from '../../../src/api/index.js';
import {
  CompactedError,
  DuplicateKeyError,
  EmptyKeyError,
  FutureRevisionError,
  InvalidRequestError,
  KeyNotFoundError,
  LeaseExistsError,
  LeaseNotFoundError,
  LeaseTtlTooLargeError,
  RequestTooLargeError,
  TooManyOperationsError,
} from '../../../src/kv/index.js';
import { MeshError } from '../../../src/lib/index.js';

describe('grpcFailureOf', () => {
  const cases: [string, unknown, status, string][] = [
    [
      'compacted',
      new CompactedError(4),
      status.OUT_OF_RANGE,
      'etcdserver: mvcc: required revision has been compacted',
    ],
    [
      'future',
      new FutureRevisionError(9),
      status.OUT_OF_RANGE,
      'etcdserver: mvcc: required revision is a future revision',
    ],
    ['lease not found', new LeaseNotFoundError(3), status.NOT_FOUND, 'etcdserver: requested lease not found'],
    ['lease exists', new LeaseExistsError(3), status.FAILED_PRECONDITION, 'etcdserver: lease already exists'],
    ['lease ttl', new LeaseTtlTooLargeError(10), status.OUT_OF_RANGE, 'etcdserver: too large lease TTL'],
    [
      'duplicate key',
      new DuplicateKeyError(),
      status.INVALID_ARGUMENT,
      'etcdserver: duplicate key given in txn request',
    ],
    [
      'too many ops',
      new TooManyOperationsError(128),
      status.INVALID_ARGUMENT,
      'etcdserver: too many operations in txn request',
    ],
    [
      'too large',
      new RequestTooLargeError(10, 5),
      status.INVALID_ARGUMENT,
      'etcdserver: request is too large',
    ],
    ['empty key', new EmptyKeyError(), status.INVALID_ARGUMENT, 'etcdserver: key is not provided'],
    ['key not found', new KeyNotFoundError(), status.INVALID_ARGUMENT, 'etcdserver: key not found'],
    [
      'value provided',
      new InvalidRequestError('value is provided'),
      status.INVALID_ARGUMENT,
      'etcdserver: value is provided',
    ],
    [
      'lease provided',
      new InvalidRequestError('lease is provided'),
      status.INVALID_ARGUMENT,
      'etcdserver: lease is provided',
    ],
    [
      'no leader',
      new MeshError('NOT_LEADER', 'x', { details: { leaderId: 0 } }),
      status.UNAVAILABLE,
      'etcdserver: no leader',
    ],
    [
      'not leader',
      new MeshError('NOT_LEADER', 'x', { details: { leaderId: 2 } }),
      status.UNAVAILABLE,
      'etcdserver: not leader',
    ],
    ['timeout', new MeshError('TIMEOUT', 'x'), status.UNAVAILABLE, 'etcdserver: request timed out'],
    ['dropped', new MeshError('PROPOSAL_DROPPED', 'x'), status.UNAVAILABLE, 'etcdserver: leader changed'],
    ['stopped', new MeshError('NODE_STOPPED', 'x'), status.UNAVAILABLE, 'etcdserver: server stopped'],
    [
      'leader connection lost',
      new MeshError('UNAVAILABLE', 'lost the connection to node 1'),
      status.UNAVAILABLE,
      'etcdserver: leader changed',
    ],
    [
      'leader never reached (never proposed)',
      new MeshError('LEADER_UNREACHABLE', 'cannot reach node 1'),
      status.UNAVAILABLE,
      'etcdserver: no leader',
    ],
    [
      'backlog',
      new MeshError('TOO_MANY_REQUESTS', 'x'),
      status.RESOURCE_EXHAUSTED,
      'etcdserver: too many requests',
    ],
    ['member', new MemberNotFoundError(5), status.NOT_FOUND, 'etcdserver: member not found'],
  ];
  for (const [name, error, code, message] of cases) {
    it(`maps ${name}`, () => {
      expect(grpcFailureOf(error)).toEqual({ code, message });
    });
  }

  it('keeps the message of an unmapped operating error under UNKNOWN', () => {
    expect(grpcFailureOf(new MeshError('SOMETHING_ELSE', 'went wrong'))).toEqual({
      code: status.UNKNOWN,
      message: 'etcdserver: went wrong',
    });
  });

  it('treats a non-MeshError as an internal error', () => {
    expect(grpcFailureOf(new TypeError('bug')).code).toBe(status.INTERNAL);
  });

  it('every etcd message starts with the etcd server prefix', () => {
    for (const failure of Object.values(ETCD_ERRORS))
      expect(failure.message.startsWith('etcdserver: ')).toBe(true);
  });
});
