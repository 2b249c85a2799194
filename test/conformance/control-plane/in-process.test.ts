/**
 * The control-plane conformance suite on the in-process backend: a plane on a follower of a real
 * three-node MeshOS cluster, calling that node's KvBackend directly (writes forwarded to the
 * leader, keep-alives too).
 */
import { openControlPlane } from '../../../src/control/index.js';
import { type ConformanceCluster, startConformanceCluster } from '../cluster.js';
import { describeControlPlaneConformance } from './suite.js';

describeControlPlaneConformance('in-process', async () => {
  const cluster: ConformanceCluster = await startConformanceCluster('control-in-process');
  const node = await cluster.follower();
  return {
    open: (root, options = {}) =>
      openControlPlane({ kind: 'in-process', backend: node.backend, root, ...options }),
    async compact(revision) {
      await node.backend.execute({ type: 'compact', revision });
    },
    close: () => cluster.close(),
  };
});
