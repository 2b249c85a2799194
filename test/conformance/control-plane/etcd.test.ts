/**
 * The control-plane conformance suite on a real 3-member etcd 3.4 cluster serving clients over
 * mutual TLS (an external etcd, as a mesh of workers would use it), plus what only a store of
 * several members can show: a watch and a keep-alive that outlive the death of the leader.
 */
import { describe, expect, it } from 'vitest';
import { MeshClient } from '../../../src/client/index.js';
import { openControlPlane } from '../../../src/control/index.js';
import { isMeshError } from '../../../src/lib/index.js';
import { EtcdCluster } from '../../support/etcd-cluster.js';
import { describeFailover } from './failover.js';
import { bytes, freshRoot } from './fixture.js';
import { describeControlPlaneConformance } from './suite.js';

let etcd: EtcdCluster;

const suite = describeControlPlaneConformance('etcd', async () => {
  etcd = await EtcdCluster.start('control', { tls: true });
  const tls = etcd.clientTls!;
  const admin = await MeshClient.connect({ endpoints: etcd.endpoints, tls });
  return {
    open: (root, options = {}) =>
      openControlPlane({ kind: 'etcd', endpoints: etcd.endpoints, tls, root, ...options }),
    async compact(revision) {
      await admin.compact(revision);
    },
    async close() {
      admin.close();
      await etcd.close();
    },
  };
});

describe('control plane on etcd: mutual TLS', () => {
  it('serves a plane with the CA and a client certificate over https endpoints', async () => {
    expect(etcd.endpoints.every((endpoint) => endpoint.startsWith('https://'))).toBe(true);
    const plane = await suite.fixture().open(freshRoot('etcd-tls'));
    await plane.put('k', bytes('v'));
    expect((await plane.get('k'))?.version).toBe(1);
    await plane.close();
  });

  it('refuses a plane without a client certificate, or without TLS, with CONTROL_UNAVAILABLE', async () => {
    const caCertificatePem = etcd.clientTls!.caCertificatePem!;
    for (const tls of [{ caCertificatePem }, undefined]) {
      const plane = await openControlPlane({
        kind: 'etcd',
        endpoints: etcd.endpoints,
        root: freshRoot('etcd-no-tls'),
        timeoutMs: 2_000,
        ...(tls === undefined ? {} : { tls }),
      });
      const failure = await plane.get('k').catch((error: unknown) => error);
      expect(isMeshError(failure, 'CONTROL_UNAVAILABLE'), String(failure)).toBe(true);
      await plane.close();
    }
  });
});

describeFailover('etcd', suite.fixture, {
  async killLeader() {
    const leader = await etcd.leaderName();
    await etcd.killMember(leader);
    return async () => {
      etcd.startMember(leader);
      await etcd.waitForLeader();
    };
  },
  waitForLeader: () => etcd.waitForLeader(),
});
