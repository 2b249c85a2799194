/** The chain append history and its check live with the simulator, which runs them too. */
export {
  type AppendStatus,
  type ChainAppendOperation,
  chainReplicaProblems,
  historyLines,
  type ReplicaCheckOptions,
  type ReplicaRecord,
} from '../../src/sim/chain-history.js';
