import { absent, type ControlPlane, unchangedSince, WORKER_ID_COUNTER_KEY } from '../control/index.js';
import { MeshError, type NodeId } from '../lib/index.js';

/**
 * Workers take ids from FIRST_WORKER_NODE_ID up, so they never meet voters' ids (founders name
 * theirs, 1..N; `meshos join` takes the largest member id + 1), up to the largest NodeId.
 */
export const FIRST_WORKER_NODE_ID = 1_000_000;
export const LAST_WORKER_NODE_ID = Number.MAX_SAFE_INTEGER;
/** Compare-and-swap rounds lost to other workers before allocation gives up. */
export const MAX_WORKER_ID_ALLOCATION_ATTEMPTS = 100;

export class WorkerIdAllocationError extends MeshError {
  constructor(message: string, details: Record<string, unknown> = {}) {
    super('WORKER_ID_ALLOCATION', message, { details });
  }
}

/**
 * Hands out the next worker id: reads the counter and advances it by one in a transaction that
 * holds only if nobody advanced it since, so two workers starting at once get different ids.
 */
export async function allocateWorkerNodeId(plane: ControlPlane): Promise<NodeId> {
  for (let attempt = 1; attempt <= MAX_WORKER_ID_ALLOCATION_ATTEMPTS; attempt++) {
    const current = await plane.get(WORKER_ID_COUNTER_KEY);
    const last = current === undefined ? FIRST_WORKER_NODE_ID - 1 : counterValue(current.value);
    const next = last + 1;
    if (next > LAST_WORKER_NODE_ID) {
      throw new WorkerIdAllocationError(`every worker id up to ${LAST_WORKER_NODE_ID} was handed out`);
    }
    const answer = await plane.txn({
      compare: [
        current === undefined
          ? absent(WORKER_ID_COUNTER_KEY)
          : unchangedSince(WORKER_ID_COUNTER_KEY, current.modRevision),
      ],
      success: [{ type: 'put', key: WORKER_ID_COUNTER_KEY, value: new TextEncoder().encode(String(next)) }],
    });
    if (answer.succeeded) return next;
  }
  throw new WorkerIdAllocationError(
    `lost the worker id counter to other workers ${MAX_WORKER_ID_ALLOCATION_ATTEMPTS} times in a row`,
    { attempts: MAX_WORKER_ID_ALLOCATION_ATTEMPTS },
  );
}

function counterValue(bytes: Uint8Array): number {
  const text = new TextDecoder().decode(bytes);
  const value = /^[0-9]{1,16}$/.test(text) ? Number(text) : Number.NaN;
  if (!(value >= FIRST_WORKER_NODE_ID - 1 && value <= LAST_WORKER_NODE_ID)) {
    throw new WorkerIdAllocationError(
      `the worker id counter ${WORKER_ID_COUNTER_KEY} holds '${text.slice(0, 40)}'`,
      {
        value: text.slice(0, 40),
      },
    );
  }
  return value;
}
