/**
 * The sample stateful app `npm start` deploys on the local cluster: a `counter` standby group
 * (the built-in kind, counting events per key) with a hot standby on every other node, and a
 * chain the load appends to. Deploying is idempotent: on a data folder where they exist already
 * (a second `npm start`) they are reused.
 */
import type { ChainStatus } from '../../api/index.js';
import type { MeshClient } from '../../client/index.js';
import { COUNTER_KIND_NAME, type DaemonStatus } from '../../daemons/index.js';
import { isMeshError, MeshError } from '../../lib/index.js';

export const DEMO_COUNTER_NAME = 'counter';
export const DEMO_CHAIN_NAME = 'demo.events';
/** The local cluster's size: an active and two hot standbys, one per node. */
export const DEMO_COUNTER_MEMBERS = 3;
export const DEMO_CHAIN_REPLICAS = 3;
/** The demo chain keeps about this many bytes of records (retention drops whole old segments). */
export const DEMO_CHAIN_RETENTION_BYTES = 64 * 1024 * 1024;
/** Between two tries while the cluster is still coming up (no leader, nodes not registered). */
const SETUP_RETRY_INTERVAL_MS = 500;
const SETUP_CALL_TIMEOUT_MS = 10_000;

/** The sample app cannot be set up: a same-named daemon of another kind, or the cluster never got ready. */
export class DemoSetupError extends MeshError {
  constructor(reason: string, cause?: unknown) {
    super('DEMO_SETUP_FAILED', `the demo cannot be set up: ${reason}`, {
      details: { reason },
      ...(cause === undefined ? {} : { cause }),
    });
  }
}

export interface SampleApp {
  readonly counter: DaemonStatus;
  readonly chain: ChainStatus;
  /** False when the counter, or the chain, was already there (a later start on the same data). */
  readonly counterCreated: boolean;
  readonly chainCreated: boolean;
}

/**
 * Tries `attempt` until it answers, `deadlineMs` passes (the last error, as `DemoSetupError`) or
 * `signal` aborts; a cluster that is still starting refuses a deploy for a while.
 */
async function retried<T>(
  what: string,
  deadlineMs: number,
  signal: AbortSignal,
  attempt: () => Promise<T>,
): Promise<T> {
  for (;;) {
    try {
      return await attempt();
    } catch (error) {
      if (error instanceof DemoSetupError) throw error;
      if (signal.aborted || Date.now() >= deadlineMs) {
        throw new DemoSetupError(`${what}: ${error instanceof Error ? error.message : String(error)}`, error);
      }
    }
    await new Promise((resolve) => setTimeout(resolve, SETUP_RETRY_INTERVAL_MS));
  }
}

async function ensureCounter(client: MeshClient): Promise<{ status: DaemonStatus; created: boolean }> {
  try {
    const status = await client.daemons.deploy(DEMO_COUNTER_NAME, {
      kind: COUNTER_KIND_NAME,
      group: 'standby',
      members: DEMO_COUNTER_MEMBERS,
      timeoutMs: SETUP_CALL_TIMEOUT_MS,
    });
    return { status, created: true };
  } catch (error) {
    if (!isMeshError(error, 'DAEMON_EXISTS')) throw error;
  }
  const status = await client.daemons.status(DEMO_COUNTER_NAME, { timeoutMs: SETUP_CALL_TIMEOUT_MS });
  if (status.kind !== COUNTER_KIND_NAME || status.group !== 'standby') {
    throw new DemoSetupError(
      `a daemon named '${DEMO_COUNTER_NAME}' of kind ${status.kind}, group ${status.group} exists; remove it or run with --no-demo`,
    );
  }
  return { status, created: false };
}

async function ensureChain(client: MeshClient): Promise<{ status: ChainStatus; created: boolean }> {
  try {
    const status = await client.chains.create(DEMO_CHAIN_NAME, {
      replicas: DEMO_CHAIN_REPLICAS,
      retention: { maxBytes: DEMO_CHAIN_RETENTION_BYTES },
      timeoutMs: SETUP_CALL_TIMEOUT_MS,
    });
    return { status, created: true };
  } catch (error) {
    if (!isMeshError(error, 'CHAIN_EXISTS')) throw error;
  }
  return {
    status: await client.chains.status(DEMO_CHAIN_NAME, { timeoutMs: SETUP_CALL_TIMEOUT_MS }),
    created: false,
  };
}

/** Deploys the counter group and creates the chain, or finds them there; retries until `deadlineMs`. */
export async function ensureSampleApp(
  client: MeshClient,
  deadlineMs: number,
  signal: AbortSignal,
): Promise<SampleApp> {
  const counter = await retried(`deploying '${DEMO_COUNTER_NAME}'`, deadlineMs, signal, () =>
    ensureCounter(client),
  );
  const chain = await retried(`creating '${DEMO_CHAIN_NAME}'`, deadlineMs, signal, () => ensureChain(client));
  return {
    counter: counter.status,
    chain: chain.status,
    counterCreated: counter.created,
    chainCreated: chain.created,
  };
}
