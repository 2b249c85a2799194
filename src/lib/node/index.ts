// Node's implementations of the IO seams: real files, sockets and logs. Pure code never
// imports this folder; the composition of a node (mesh/, cli/) and the edges (store, transport,
// server, api, client) do.
export { NodeDisk, type NodeDiskOptions } from './disk.js';
export { INLINE_MAX_BATCH_BYTES, INLINE_SYNC_SLOW_MS, InlineIoPolicy } from './inline-io-policy.js';
export { createLogger, silentLogger } from './logger.js';
export { MainThreadSchedule, mainThreadRunQueueWaits } from './main-thread-schedule.js';
export { findFreeLoopbackPort, NodeNetwork, type NodeNetworkOptions } from './network.js';
export { type TraceStage, traceStage } from './stage-trace.js';
export { endOfTurn, TurnEnd } from './turn-end.js';
