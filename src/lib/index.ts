// The pure helpers and the IO seams' interfaces: nothing here loads Node's file system,
// network or logger, so pure cores (raft/, kv/, supervisor compile) can import it freely.
// Node's IO implementations live in `lib/node/`.

export type { Logger } from 'pino';
export { BinaryReader, BinaryWriter, type DecodeErrorFactory } from './binary.js';
export { binaryToBytes, bytesToBinary, writeBinary } from './binary-string.js';
export { dataViewOf, pooledBytes, scratchBytes } from './bytes.js';
export { ChangeWaiters } from './change-waiters.js';
export { type Clock, ManualClock, SystemClock, type TimerId } from './clock.js';
export {
  type Disk,
  DiskError,
  type DiskFile,
  FileNotFoundError,
  type OpenMode,
  type OpenOptions,
} from './disk.js';
export { AssertionError, assert, assertNever, isMeshError, MeshError, ValidationError } from './errors.js';
export { type DelayWindow, EventLoopOwnDelay } from './event-loop-own-delay.js';
export {
  GC_REPORT_DELAY_MS,
  GcInsideSteps,
  LONG_STEPS_PENDING,
  type LongStepObserver,
  type LongStepOutsideGc,
  type StepDetails,
} from './gc-inside-steps.js';
export { Hash64Result, hash64, hash64Into, hash64PrefixedInto } from './hash64.js';
export { type CrashOptions, MemoryDisk } from './memory-disk.js';
export {
  type Address,
  type ByteStream,
  formatAddress,
  type Listener,
  type Network,
  NetworkError,
  parseAddress,
} from './network.js';
export { isNodeId, type NodeId, nodeIdFromText, parseNodeId } from './node-id.js';
export { outgoingBytes } from './outgoing-bytes.js';
export { PEER_CHANNEL, type PeerChannelId } from './peer-channel-ids.js';
export {
  firstRequestId,
  PeerRequestError,
  PendingPeerRequests,
  type PendingPeerRequestsOptions,
  type UnansweredCause,
} from './pending-peer-requests.js';
export { type Random, SeededRandom, systemRandom } from './random.js';
export {
  FRESH_READING_MS,
  parseSchedstat,
  RUN_QUEUE_READINGS_KEPT,
  RunQueueWaitLog,
  type RunQueueWaitSource,
  type ThreadSchedule,
} from './run-queue-wait.js';
export { encodeWithScratch, MAX_KEPT_SCRATCH_BYTES, ScratchBuffer } from './scratch-buffer.js';
export { describeValue, InputProblems, isRecord } from './shape.js';
export {
  LONG_STEP_THRESHOLD_MS,
  type LongPause,
  type LongPauseObserver,
  STEP_SOURCES,
  StepDurations,
  type StepObserver,
  type StepSource,
  type StepStartObserver,
} from './step-durations.js';
export {
  ChunkConcatenation,
  CONCATENATE_STEP_BYTES,
  type FedTask,
  followedBy,
  runToEnd,
  SteppedMergeSort,
  type SteppedTask,
  singleStep,
} from './stepped.js';
