export type { ClientRequest, ClientResponse } from './client-protocol.js';
export { EventQueue, type SimEvent } from './event-queue.js';
export {
  deriveFaultPlan,
  emptyFaultCounts,
  FAULT_NAMES,
  type FaultCounts,
  type FaultName,
  type FaultPlan,
  MAX_TICK_DRIFT_RATIO,
  parseFaultList,
} from './fault-plan.js';
export { InvariantChecker, type InvariantName, InvariantViolation } from './invariants.js';
export { decodeKvCommand, encodeKvCommand, type KvCommand, KvCommandDecodeError } from './kv/commands.js';
export { encodeKvResult, KvStateMachine } from './kv/state-machine.js';
export {
  type CheckOptions,
  type CheckResult,
  checkHistory,
  formatHistory,
  type HistoryOperation,
  type KeyResult,
  parseHistory,
  type Verdict,
} from './linearizability/index.js';
export { Scheduler } from './scheduler.js';
export { SimNetwork } from './sim-network.js';
export { type SimHostEnvironment, SimRaftHost, type SimRaftSettings } from './sim-raft-host.js';
export {
  runSimulation,
  type SimulationOptions,
  type SimulationResult,
  type Violation,
} from './simulation.js';
export { Trace } from './trace.js';
export { type AcknowledgedWrite, type ClusterAccess, SimClient } from './workload.js';
