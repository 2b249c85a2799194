/**
 * The replica-group fault tests' common setup: a `journal` replica group of 3 members deployed
 * through the first node, and 16 senders whose events carry rotating keys (so every member gets
 * some), with the thresholds the tests wait for around their fault.
 */
import type { DaemonCluster } from './daemon-cluster.js';
import { DaemonSenders, FAULT_TEST_LOAD, rotatingKeys } from './daemon-senders.js';
import type { RawDaemonStatus } from './raw-daemons-client.js';

export const REPLICA_DAEMON = 'shares';
export const REPLICA_MEMBERS = 3;
const REPLICA_KEYS = 24;
/** Acknowledged events the load reaches before the fault, and after it. */
export const ACKS_BEFORE_FAULT = 120;
export const ACKS_AFTER_FAULT = 90;
export const CALL_TIMEOUT_MS = 5_000;
export const CLUSTER_TIMEOUT_MS = 60_000;

export function deployReplicaGroup(mesh: DaemonCluster): Promise<RawDaemonStatus> {
  return mesh.deploy(
    mesh.ids[0]!,
    REPLICA_DAEMON,
    'journal',
    'GROUP_REPLICA',
    REPLICA_MEMBERS,
    CALL_TIMEOUT_MS,
  );
}

/** Starts the keyed senders (they send from construction on). */
export function keyedReplicaSenders(mesh: DaemonCluster): DaemonSenders {
  return new DaemonSenders({
    endpoints: mesh.cluster.clientEndpoints,
    daemon: REPLICA_DAEMON,
    ...FAULT_TEST_LOAD,
    keyOf: rotatingKeys(REPLICA_KEYS),
  });
}
