export {
  deriveFaultPlan,
  emptyFaultCounts,
  FAULT_NAMES,
  type FaultCounts,
  type FaultName,
  type FaultPlan,
  parseFaultList,
} from './fault-plan.js';
export {
  type CheckResult,
  checkHistory,
  formatHistory,
  type HistoryOperation,
  parseHistory,
} from './linearizability/index.js';
export { compareReplicas, type ReplicaComparison, type ReplicaState } from './replica-check.js';
export {
  DEFAULT_STEPS,
  runSimulation,
  Simulation,
  type SimulationOptions,
  type SimulationResult,
  type Violation,
} from './simulation.js';
