/**
 * The service definitions the node and the client use, made from a JSON descriptor without
 * @grpc/proto-loader, against proto-loader's own reading of etcd's rpc.proto with the options
 * MeshOS always used: the same services, paths, streaming shapes and method aliases, and
 * messages that convert to the same objects and bytes both ways.
 */
import { createRequire } from 'node:module';
import type * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { describe, expect, it } from 'vitest';
import { CHAINS_DESCRIPTOR } from '../../../src/protocol/chains-proto.js';
import {
  chainsProtoDefinition,
  etcdProtoDefinition,
  type GrpcServices,
  methodAlias,
} from '../../../src/protocol/index.js';

const LOADER_OPTIONS = { keepCase: true, longs: String, enums: String, defaults: true, oneofs: true };

const fromProtoText = protoLoader.loadSync(
  createRequire(import.meta.url).resolve('etcd3/proto/rpc.proto'),
  LOADER_OPTIONS,
);

type AnyMethod = grpc.MethodDefinition<unknown, unknown>;

function loaderServices(
  definition: protoLoader.PackageDefinition,
): Record<string, Record<string, AnyMethod>> {
  return Object.fromEntries(
    Object.entries(definition).filter(([, entry]) => !('format' in entry)) as [
      string,
      Record<string, AnyMethod>,
    ][],
  );
}

function method(services: GrpcServices, service: string, name: string): AnyMethod {
  const found = services[service]?.[name] as AnyMethod | undefined;
  if (found === undefined) throw new Error(`${service}.${name} missing`);
  return found;
}

function expectSameShapes(ours: GrpcServices, theirs: Record<string, Record<string, AnyMethod>>): void {
  expect(Object.keys(ours).sort()).toEqual(Object.keys(theirs).sort());
  for (const [service, methods] of Object.entries(theirs)) {
    expect(Object.keys(ours[service] ?? {}).sort(), service).toEqual(Object.keys(methods).sort());
    for (const [name, expected] of Object.entries(methods)) {
      const actual = method(ours, service, name);
      expect(
        {
          path: actual.path,
          requestStream: actual.requestStream,
          responseStream: actual.responseStream,
          originalName: actual.originalName,
        },
        `${service}.${name}`,
      ).toEqual({
        path: expected.path,
        requestStream: expected.requestStream,
        responseStream: expected.responseStream,
        originalName: expected.originalName,
      });
    }
  }
}

/** Messages with 64-bit values, enums, oneofs, repeated and nested fields, bytes. */
const SAMPLES: readonly { service: string; method: string; request: object; response: object }[] = [
  {
    service: 'etcdserverpb.KV',
    method: 'Range',
    request: { key: Buffer.from('a'), range_end: Buffer.from('b'), limit: '9007199254740993', revision: 7 },
    response: {
      header: { cluster_id: '18446744073709551615', member_id: '1', revision: '42', raft_term: '3' },
      kvs: [
        {
          key: Buffer.from('a'),
          create_revision: '1',
          mod_revision: '2',
          version: '1',
          value: Buffer.from('v'),
        },
      ],
      more: true,
      count: '1',
    },
  },
  {
    service: 'etcdserverpb.KV',
    method: 'Txn',
    request: {
      compare: [
        { result: 'GREATER', target: 'MOD', key: Buffer.from('k'), mod_revision: '5' },
        { result: 'EQUAL', target: 'VALUE', key: Buffer.from('k'), value: Buffer.from('x') },
      ],
      success: [{ request_put: { key: Buffer.from('k'), value: Buffer.from('y'), lease: '12' } }],
      failure: [{ request_range: { key: Buffer.from('k') } }],
    },
    response: { succeeded: true, responses: [{ response_put: { header: { revision: '6' } } }] },
  },
  {
    service: 'etcdserverpb.Watch',
    method: 'Watch',
    request: { create_request: { key: Buffer.from('w'), filters: ['NODELETE'], prev_kv: true } },
    response: { watch_id: '3', created: true, events: [{ type: 'DELETE', kv: { key: Buffer.from('w') } }] },
  },
  {
    service: 'etcdserverpb.Auth',
    method: 'RoleGrantPermission',
    request: {
      name: 'r',
      perm: { permType: 'READWRITE', key: Buffer.from('a'), range_end: Buffer.from('b') },
    },
    response: { header: { revision: '1' } },
  },
];

describe('gRPC services from a JSON descriptor', () => {
  it("has etcd's services with proto-loader's paths, streaming shapes and method aliases", () => {
    expectSameShapes(etcdProtoDefinition(), loaderServices(fromProtoText));
  });

  it("has MeshOS's own services as proto-loader reads their descriptors", () => {
    expectSameShapes(
      chainsProtoDefinition(),
      loaderServices(protoLoader.fromJSON(CHAINS_DESCRIPTOR, LOADER_OPTIONS)),
    );
  });

  it('converts messages to the same bytes and objects as proto-loader, both ways', () => {
    const theirs = loaderServices(fromProtoText);
    for (const sample of SAMPLES) {
      const ours = method(etcdProtoDefinition(), sample.service, sample.method);
      const expected = theirs[sample.service]?.[sample.method] as AnyMethod;
      for (const [value, serialize, deserialize, serializeExpected, deserializeExpected] of [
        [
          sample.request,
          ours.requestSerialize,
          ours.requestDeserialize,
          expected.requestSerialize,
          expected.requestDeserialize,
        ],
        [
          sample.response,
          ours.responseSerialize,
          ours.responseDeserialize,
          expected.responseSerialize,
          expected.responseDeserialize,
        ],
      ] as const) {
        const bytes = serialize(value);
        expect(bytes.length, sample.method).toBeGreaterThan(0);
        expect(bytes).toEqual(serializeExpected(value));
        expect(deserialize(bytes)).toStrictEqual(deserializeExpected(bytes));
        // An empty message: every default filled in the same way.
        expect(deserialize(Buffer.alloc(0))).toStrictEqual(deserializeExpected(Buffer.alloc(0)));
      }
    }
  });

  it('gives received requests one shared empty Buffer for absent bytes fields, and new arrays', () => {
    const put = method(etcdProtoDefinition(), 'etcdserverpb.KV', 'Put');
    const first = put.requestDeserialize(put.requestSerialize({ key: Buffer.from('k') })) as Record<
      string,
      unknown
    >;
    const second = put.requestDeserialize(Buffer.alloc(0)) as Record<string, unknown>;
    expect(first.key).toEqual(Buffer.from('k'));
    expect(first.value).toEqual(Buffer.alloc(0));
    // No empty Buffer (an ArrayBuffer each) made per request.
    expect(second.value).toBe(first.value);
    const txn = method(etcdProtoDefinition(), 'etcdserverpb.KV', 'Txn');
    const txns = [Buffer.alloc(0), Buffer.alloc(0)].map(
      (bytes) => txn.requestDeserialize(bytes) as { compare: unknown[] },
    );
    txns[0]?.compare.push('changed');
    expect(txns[1]?.compare).toEqual([]);
  });

  it('encodes responses as given (numbers, uint64 halves) to the same bytes as through fromObject', () => {
    const theirs = loaderServices(fromProtoText);
    const header = { cluster_id: { low: 123_456_789, high: -1_234_567, unsigned: true }, member_id: 3 };
    const responses = [
      ['etcdserverpb.KV', 'Put', { header: { ...header, revision: 2 ** 40 + 7, raft_term: 2 } }],
      [
        'etcdserverpb.KV',
        'Range',
        { header: { ...header, revision: 9 }, kvs: [{ key: Buffer.from('a') }], count: 1 },
      ],
      ['etcdserverpb.Lease', 'LeaseGrant', { header: { ...header, revision: 1 }, ID: 2 ** 50, TTL: 60 }],
    ] as const;
    for (const [service, name, value] of responses) {
      const expected = (theirs[service]![name] as AnyMethod).responseSerialize(value);
      expect(method(etcdProtoDefinition(), service, name).responseSerialize(value), name).toEqual(expected);
    }
  });

  it('spells method aliases as lower camel case, acronyms as words', () => {
    expect(['Range', 'HashKV', 'LeaseTimeToLive', 'MoveLeader', 'AppendStream'].map(methodAlias)).toEqual([
      'range',
      'hashKv',
      'leaseTimeToLive',
      'moveLeader',
      'appendStream',
    ]);
  });
});
