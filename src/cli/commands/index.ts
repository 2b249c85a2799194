export { ACTIONS_USAGE, AUDIT_USAGE, actionsCommand, auditCommand } from './audit.js';
export { AUTH_USAGE, authCommand } from './auth.js';
export { BLOB_USAGE, blobCommand, blobStatusJson, blobStatusLines } from './blob.js';
export { CHAIN_USAGE, chainCommand } from './chain.js';
export {
  type CommandHandler,
  type CommandIo,
  DEFAULT_ENDPOINT,
  EXIT_FAILED,
  EXIT_OK,
  EXIT_USAGE,
} from './common.js';
export { DAEMON_USAGE, daemonCommand } from './daemon.js';
export { DEMO_USAGE, demoCommand } from './demo.js';
export { KV_USAGE, kvCommand } from './kv.js';
export { MEMBER_USAGE, memberCommand } from './member.js';
export { MESH_USAGE, meshCommand, rttMatrixTable } from './mesh.js';
export { NODE_USAGE, nodeCommand } from './node.js';
export { NODES_USAGE, nodesCommand } from './nodes.js';
export { ROLE_USAGE, roleCommand } from './role.js';
export { SNAPSHOT_USAGE, snapshotCommand } from './snapshot.js';
export { STATUS_USAGE, statusCommand } from './status.js';
export { USER_USAGE, userCommand } from './user.js';
