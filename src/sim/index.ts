export { FAULT_NAMES, type FaultCounts, type FaultName } from './fault-plan.js';
export { formatHistory, type HistoryOperation } from './linearizability/index.js';
export { compareReplicas, type ReplicaComparison, type ReplicaState } from './replica-check.js';
export {
  runSimulation,
  type SimulationOptions,
  type SimulationResult,
  type Violation,
} from './simulation.js';
