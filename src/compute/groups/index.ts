export type { GroupHealth, MemberInfo, MemberRole } from './common.js';
export {
  ForkGroup,
  type ForkGroupOptions,
  type ForkRecord,
  ForkRecordError,
  type ForkResult,
  forkRecordBytes,
  verifyForkRecord,
} from './fork-group.js';
export { ReplayBuffer } from './replay-buffer.js';
export {
  ReplicaGroup,
  type ReplicaGroupConfig,
  type ReplicaInfo,
  type RoutingStrategy,
  replicaGroupConfigProblems,
} from './replica-group.js';
export {
  type ReplayBufferFullPolicy,
  StandbyGroup,
  type StandbyGroupConfig,
  type StandbyGroupStats,
  type SyncReport,
  standbyGroupConfigProblems,
} from './standby-group.js';
