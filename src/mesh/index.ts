export {
  claimIsLive,
  DATA_DIRECTORY_LOCK_ATTEMPTS,
  DATA_DIRECTORY_LOCK_RETRY_MAX_MS,
  DataDirectoryLock,
  DataDirectoryLockedError,
  type ProcessProbe,
} from './data-directory-lock.js';
export {
  clusterIdNumber,
  MeshNode,
  type MeshNodeDependencies,
  type MeshNodeEndpoints,
  NodeBuilder,
  type NodeExit,
  SHUTDOWN_TRANSFER_TIMEOUT_MS,
} from './mesh-node.js';
export { createNodeMetrics, type NodeMetrics } from './metrics.js';
export {
  formatPeerList,
  type MeshNodeConfig,
  parseAutoCompaction,
  parsePeerList,
  raftDirectory,
  validateMeshNodeConfig,
} from './node-config.js';
export { IdentityMismatchError, loadOrCreateIdentity, type NodeIdentity } from './node-identity.js';
