export {
  type CheckOptions,
  type CheckResult,
  checkHistory,
  DEFAULT_MAX_STEPS_PER_KEY,
  describeOperation,
  type KeyResult,
  type Verdict,
} from './checker.js';
export { formatHistory, type HistoryOperation, type OperationStatus, parseHistory } from './history.js';
export { type RegisterOperation, type RegisterState, stepRegister } from './register-model.js';
