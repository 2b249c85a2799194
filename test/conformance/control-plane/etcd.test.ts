/**
 * The control-plane conformance suite on a real 3-member etcd 3.4 cluster (an external etcd, as
 * a mesh of workers would use), plus what only a multi-member store can show: a watch and a
 * keep-alive that outlive the death of the member they were served by.
 */
import { MeshClient } from '../../../src/client/index.js';
import { openControlPlane } from '../../../src/control/index.js';
import { EtcdCluster } from '../../support/etcd-cluster.js';
import { describeFailover } from './failover.js';
import { describeControlPlaneConformance } from './suite.js';

let etcd: EtcdCluster;

const suite = describeControlPlaneConformance('etcd', async () => {
  etcd = await EtcdCluster.start('control');
  const admin = await MeshClient.connect({ endpoints: etcd.endpoints });
  return {
    open: (root, options = {}) =>
      openControlPlane({ kind: 'etcd', endpoints: etcd.endpoints, root, ...options }),
    async compact(revision) {
      await admin.compact(revision);
    },
    async close() {
      admin.close();
      await etcd.close();
    },
  };
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
