export { dataViewOf, scratchBytes } from './bytes.js';
export { type Clock, ManualClock, SystemClock, type TimerId } from './clock.js';
export {
  type CrashOptions,
  type Disk,
  DiskError,
  type DiskFile,
  FileNotFoundError,
  MemoryDisk,
  NodeDisk,
  type OpenMode,
} from './disk.js';
export { AssertionError, assert, assertNever, isMeshError, MeshError, ValidationError } from './errors.js';
export { createLogger, type Logger, silentLogger } from './logger.js';
export {
  type Address,
  type ByteStream,
  findFreeLoopbackPort,
  formatAddress,
  type Listener,
  type Network,
  NetworkError,
  NodeNetwork,
  type NodeNetworkOptions,
  parseAddress,
} from './network.js';
export { type Random, SeededRandom, systemRandom } from './random.js';
export { encodeWithScratch, MAX_KEPT_SCRATCH_BYTES, ScratchBuffer } from './scratch-buffer.js';
