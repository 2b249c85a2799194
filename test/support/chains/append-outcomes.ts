import type { AppendResult } from '../../../src/chains/index.js';
import type { ChainCluster } from './chain-cluster.js';

/** Settles a promise while the simulation runs (it only moves when the clock does). */
export async function settle<T>(chain: ChainCluster, promise: Promise<T>, limitMs = 3000): Promise<T> {
  let done = false;
  const watched = promise.finally(() => {
    done = true;
  });
  await chain.runUntil(() => done, limitMs, 'the append settles');
  return watched;
}

/** The append's result; its error, thrown, when it failed. */
export function acknowledged(outcome: AppendResult | Error): AppendResult {
  if (outcome instanceof Error) throw outcome;
  return outcome;
}
