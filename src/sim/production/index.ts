export {
  CLIENT_ATTEMPT_TIMEOUT_US,
  type ClientEnvironment,
  MAX_WRITE_ATTEMPTS,
  ProductionClient,
  type RequestOutcome,
} from './production-client.js';
export {
  CHECKPOINT_EVERY_ENTRIES,
  DEFAULT_PRODUCTION_STEPS,
  LIVENESS_BOUND_US,
  PRODUCTION_FAULTS,
  ProductionSimulation,
  type ProductionSimulationOptions,
  type ProductionSimulationResult,
  type ProductionViolation,
  runProductionSimulation,
} from './production-simulation.js';
export { compareReplicas, hashBytes, type ReplicaComparison, type ReplicaState } from './replica-check.js';
export { type ProductionNodeSettings, SimProductionNode } from './sim-production-node.js';
