import type { ChainAppendResult } from '../api/index.js';
import { type AcksPolicy, ChainUnavailableError } from '../chains/index.js';
import { isMeshError, type NodeId, type Random } from '../lib/index.js';
import { CHAIN_ERRORS } from '../protocol/chain-errors.js';
import type { ChainAppendOperation } from './chain-history.js';
import { type ProcessRequest, requestOnce } from './client-request.js';
import { ClosedLoopClient } from './closed-loop-client.js';
import type { Scheduler } from './scheduler.js';
import type { ChainProcess } from './sim-chains.js';
import type { RequestOutcome } from './sim-client.js';
import type { RunningProcess } from './sim-node.js';

/** How long a node's chain requests try to append before they give up (the API's timeout). */
export const CHAIN_APPEND_TIMEOUT_MS = 500;
/** An appender gives up on an answer this long after sending (beyond the append's own timeout). */
const CHAIN_CLIENT_TIMEOUT_US = 700_000;
/** Pause between two appends of one appender. */
const CHAIN_THINK_TIME_MAX_US = 20_000;
/** Pause before a creation is tried again. */
const CREATE_RETRY_US = 100_000;
/** Records in one append: 1 to this many. */
const MAX_RECORDS_PER_SIM_APPEND = 3;

/** One chain of the run: its name, acks policy and where its replicas and first leader go. */
export interface ChainPlan {
  readonly name: string;
  readonly acks: AcksPolicy;
  readonly replicas: readonly NodeId[];
  readonly leader: NodeId;
}

/** How appenders reach the nodes and report what they saw. */
export interface ChainClientEnvironment {
  readonly scheduler: Scheduler;
  readonly nodeIds: readonly NodeId[];
  /** The chain parts of a running process, once started. */
  chainsOf(process: RunningProcess): ChainProcess | undefined;
  /** One request over the client network; `answer` runs at most once, never when it was lost. */
  readonly request: ProcessRequest;
  record(operation: ChainAppendOperation): void;
  trace(line: string): void;
}

const encoder = new TextEncoder();

/** A request to a process whose chains have not started yet is refused, unwritten. */
function chainsOrUnavailable(
  environment: ChainClientEnvironment,
  process: RunningProcess,
  chain: string,
): ChainProcess {
  const chains = environment.chainsOf(process);
  if (chains === undefined) throw new ChainUnavailableError(chain, 'the chains of this process are starting');
  return chains;
}

/** Creates every planned chain through a node's chain requests, retrying until it exists. */
export class ChainCreator {
  private readonly pending = new Set<string>();

  constructor(
    private readonly environment: ChainClientEnvironment,
    private readonly plans: readonly ChainPlan[],
    private readonly random: Random,
  ) {}

  get done(): boolean {
    return this.pending.size === 0;
  }

  start(): void {
    for (const plan of this.plans) {
      this.pending.add(plan.name);
      this.attempt(plan);
    }
  }

  private attempt(plan: ChainPlan): void {
    const { environment } = this;
    const node = environment.nodeIds[this.random.nextInt(environment.nodeIds.length)]!;
    const settle = (outcome: RequestOutcome | undefined): void => {
      if (!this.pending.has(plan.name)) return;
      if (outcome !== undefined && (outcome.ok || isMeshError(outcome.error, 'CHAIN_EXISTS'))) {
        this.pending.delete(plan.name);
        environment.trace(`chain ${plan.name} created`);
        return;
      }
      environment.trace(
        `chain ${plan.name} not created: ${outcome === undefined ? 'no answer' : describeError(outcome)}`,
      );
      environment.scheduler.schedule(CREATE_RETRY_US, 'chain create retry', () => this.attempt(plan));
    };
    requestOnce(
      environment.scheduler,
      environment.request,
      node,
      (process) =>
        chainsOrUnavailable(environment, process, plan.name).requests.create({
          name: plan.name,
          replicas: plan.replicas.length,
          acks: plan.acks,
        }),
      CHAIN_CLIENT_TIMEOUT_US,
      'chain create timeout',
      settle,
    );
  }
}

function describeError(outcome: RequestOutcome): string {
  if (outcome.ok) return 'ok';
  const error = outcome.error;
  return error instanceof Error
    ? `${(error as { code?: string }).code ?? error.name}: ${error.message}`
    : String(error);
}

/**
 * One closed-loop appender on one chain: a batch of 1-3 unique values at a time, through any
 * node's chain requests (a node that does not lead forwards to the leader). Each value is
 * recorded: `ok` with the offset the acknowledgement named, `fail` when the error proves it
 * was not written, `info` otherwise (including no answer).
 */
export class ChainAppender extends ClosedLoopClient {
  private counter = 0;

  constructor(
    readonly client: number,
    private readonly chain: string,
    private readonly environment: ChainClientEnvironment,
    private readonly random: Random,
  ) {
    super({
      scheduler: environment.scheduler,
      random,
      thinkTimeMaxUs: CHAIN_THINK_TIME_MAX_US,
      label: 'chain append',
    });
  }

  protected step(): void {
    const { environment } = this;
    this.begun();
    const count = 1 + this.random.nextInt(MAX_RECORDS_PER_SIM_APPEND);
    const values = Array.from({ length: count }, () => `a${this.client}-${this.counter++}`);
    const callTs = environment.scheduler.nowUs * 1_000;
    const node = environment.nodeIds[this.random.nextInt(environment.nodeIds.length)]!;
    const finish = (outcome: RequestOutcome | undefined): void => {
      const returnTs = environment.scheduler.nowUs * 1_000;
      if (outcome?.ok !== true)
        environment.trace(
          `chain append ${this.chain} via ${node} failed: ${outcome === undefined ? 'no answer' : describeError(outcome)}`,
        );
      values.forEach((value, position) => {
        environment.record(operationOf(this.client, this.chain, value, position, outcome, callTs, returnTs));
      });
      this.done();
    };
    requestOnce(
      environment.scheduler,
      environment.request,
      node,
      (process) =>
        chainsOrUnavailable(environment, process, this.chain).requests.append(
          this.chain,
          values.map((value) => encoder.encode(value)),
          CHAIN_APPEND_TIMEOUT_MS,
        ),
      CHAIN_CLIENT_TIMEOUT_US,
      'chain append timeout',
      finish,
    );
  }
}

/** What one value's append became, given the request's outcome (undefined: no answer). */
export function operationOf(
  client: number,
  chain: string,
  value: string,
  position: number,
  outcome: RequestOutcome | undefined,
  callTs: number,
  returnTs: number,
): ChainAppendOperation {
  if (outcome?.ok === true) {
    const result = outcome.value as ChainAppendResult;
    return { client, chain, value, status: 'ok', offset: result.firstOffset + position, callTs, returnTs };
  }
  const code = (outcome?.error as { code?: unknown } | undefined)?.code;
  const notWritten = typeof code === 'string' && CHAIN_ERRORS[code]?.notWritten === true;
  return notWritten
    ? { client, chain, value, status: 'fail', callTs, returnTs }
    : { client, chain, value, status: 'info', callTs };
}
