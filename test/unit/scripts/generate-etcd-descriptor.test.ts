/**
 * The checked-in etcd descriptor is what scripts/generate-etcd-descriptor.ts makes from the
 * .proto files today: a changed .proto (an upgraded etcd3 package) fails here until the
 * descriptor is generated again (`npm run generate:etcd-descriptor`).
 */
import { describe, expect, it } from 'vitest';
import { etcdDescriptorFromProto } from '../../../scripts/generate-etcd-descriptor.js';
import { ETCD_RPC_DESCRIPTOR } from '../../../src/protocol/etcd-rpc-descriptor.js';

describe('the prebuilt etcd descriptor', () => {
  it('equals the descriptor the .proto files give', () => {
    expect(ETCD_RPC_DESCRIPTOR).toStrictEqual(etcdDescriptorFromProto());
  });

  it("keeps etcd's services, with field names as written in the .proto", () => {
    const etcdserverpb = (ETCD_RPC_DESCRIPTOR.nested?.etcdserverpb ?? {}) as {
      nested: Record<string, { methods?: object; fields?: Record<string, unknown> }>;
    };
    const services = Object.entries(etcdserverpb.nested)
      .filter(([, entry]) => entry.methods !== undefined)
      .map(([name]) => name);
    expect(services.sort()).toEqual(['Auth', 'Cluster', 'KV', 'Lease', 'Maintenance', 'Watch']);
    expect(Object.keys(etcdserverpb.nested.RangeRequest?.fields ?? {})).toContain('range_end');
  });
});
