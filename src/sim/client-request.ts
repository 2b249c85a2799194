import type { NodeId } from '../lib/index.js';
import type { Scheduler } from './scheduler.js';
import type { RequestOutcome } from './sim-client.js';
import type { RunningProcess } from './sim-node.js';

/** How a simulated client sends one request to a node's process over the client network. */
export type ProcessRequest = (
  node: NodeId,
  work: (process: RunningProcess) => Promise<unknown>,
  answer: (outcome: RequestOutcome) => void,
) => void;

/**
 * Sends `work` to `node` and calls `settle` exactly once: with the answer, or with undefined
 * when none came within `timeoutUs` (the request or its answer lost, the process gone or slow),
 * as a client that gives up waiting sees it.
 */
export function requestOnce(
  scheduler: Scheduler,
  request: ProcessRequest,
  node: NodeId,
  work: (process: RunningProcess) => Promise<unknown>,
  timeoutUs: number,
  timeoutLabel: string,
  settle: (outcome: RequestOutcome | undefined) => void,
): void {
  let settled = false;
  const once = (outcome: RequestOutcome | undefined): void => {
    if (settled) return;
    settled = true;
    settle(outcome);
  };
  request(node, work, once);
  scheduler.schedule(timeoutUs, timeoutLabel, () => once(undefined));
}
