import type { DaemonDeployInput } from '../api/index.js';
import type { DaemonStatus } from '../daemons/types.js';
import type { NodeId, Random } from '../lib/index.js';
import type { DaemonsNode } from '../mesh/daemon-node.js';
import { type ProcessRequest, requestOnce } from './client-request.js';
import { ClosedLoopClient } from './closed-loop-client.js';
import type { DaemonSendOperation } from './daemon-history.js';
import type { Scheduler } from './scheduler.js';
import type { RequestOutcome } from './sim-client.js';
import type { RunningProcess } from './sim-node.js';

/** The deadline a sender gives one send (the API's `timeoutMs`). */
export const DAEMON_SEND_TIMEOUT_MS = 1_000;
/** A sender gives up on an answer this long after sending (beyond the send's own deadline). */
const DAEMON_CLIENT_TIMEOUT_US = 1_400_000;
/** Attempts of one event (same client id and sequence) before its outcome is recorded. */
const MAX_SEND_ATTEMPTS = 3;
const RETRY_BACKOFF_MIN_US = 20_000;
const RETRY_BACKOFF_MAX_US = 200_000;
/** Pause between two events of one sender. */
const THINK_TIME_MAX_US = 30_000;
/** A deploy gets this long per attempt (several control-plane writes and two chain creations). */
const DEPLOY_CLIENT_TIMEOUT_US = 10_000_000;
const DEPLOY_RETRY_US = 200_000;

/**
 * Codes proving that an attempt applied nothing: no active took it, or it was appended and
 * refused by the epoch rule (`DAEMON_UNAVAILABLE`); a lower sequence than the client's last
 * (`DAEMON_SEQUENCE_STALE`); the daemon not known yet on that node (`DAEMON_NOT_FOUND`).
 */
const NOT_APPLIED_CODES: ReadonlySet<string> = new Set([
  'DAEMON_UNAVAILABLE',
  'DAEMON_SEQUENCE_STALE',
  'DAEMON_NOT_FOUND',
]);

/** How senders reach the nodes and report what they saw. */
export interface DaemonClientEnvironment {
  readonly scheduler: Scheduler;
  readonly nodeIds: readonly NodeId[];
  /** The daemons parts of a running process; throws DAEMON_UNAVAILABLE while they are starting. */
  daemonsOf(process: RunningProcess, daemon: string): DaemonsNode;
  /** One request over the client network; `answer` runs at most once, never when it was lost. */
  readonly request: ProcessRequest;
  record(operation: DaemonSendOperation): void;
  trace(line: string): void;
}

const encoder = new TextEncoder();

function codeOf(outcome: RequestOutcome | undefined): string | undefined {
  if (outcome === undefined || outcome.ok) return undefined;
  const code = (outcome.error as { code?: unknown } | undefined)?.code;
  return typeof code === 'string' ? code : undefined;
}

function describe(outcome: RequestOutcome | undefined): string {
  if (outcome === undefined) return 'no answer';
  if (outcome.ok) return 'ok';
  return describeError(outcome.error);
}

/** An error with its causes (the router's last refusal, the chain's answer), for the trace. */
function describeError(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const code = (error as { code?: unknown }).code;
  const text = `${typeof code === 'string' ? code : error.name}: ${error.message}`;
  return error.cause === undefined ? text : `${text} <- ${describeError(error.cause)}`;
}

/** Deploys one daemon through any node, trying again until its definition is committed. */
export class DaemonDeployer implements SimDeploy {
  status: DaemonStatus | undefined;

  constructor(
    private readonly environment: DaemonClientEnvironment,
    private readonly input: DaemonDeployInput,
    private readonly random: Random,
  ) {}

  get done(): boolean {
    return this.status !== undefined;
  }

  start(): void {
    const { environment, input } = this;
    const node = environment.nodeIds[this.random.nextInt(environment.nodeIds.length)]!;
    const settle = (outcome: RequestOutcome | undefined): void => {
      if (outcome?.ok === true) {
        this.status = outcome.value as DaemonStatus;
        environment.trace(`daemon ${input.name} deployed: ${JSON.stringify(this.status.members)}`);
        return;
      }
      environment.trace(`daemon ${input.name} not deployed via ${node}: ${describe(outcome)}`);
      environment.scheduler.schedule(DEPLOY_RETRY_US, 'daemon deploy retry', () => this.start());
    };
    requestOnce(
      environment.scheduler,
      environment.request,
      node,
      (process) => environment.daemonsOf(process, input.name).requests.deploy(input),
      DEPLOY_CLIENT_TIMEOUT_US,
      'daemon deploy timeout',
      settle,
    );
  }
}

/** Something that deploys one daemon of a run, trying again until it is committed. */
export interface SimDeploy {
  readonly status: DaemonStatus | undefined;
  readonly done: boolean;
  start(): void;
}

/**
 * Deploys a fork group once its parent is deployed: first `prefixEvents` events are sent to the
 * parent, one at a time, so the fork point falls inside a history; then the fork is deployed at a
 * point drawn from 0 to the parent's last acknowledged offset + 1 (`forkPoint`).
 */
export class ForkDeployer implements SimDeploy {
  private deployer: DaemonDeployer | undefined;
  private started = false;
  forkPoint: number | undefined;

  constructor(
    private readonly environment: DaemonClientEnvironment,
    private readonly input: Omit<DaemonDeployInput, 'group' | 'forkOf'>,
    private readonly parent: { readonly name: string; readonly deploy: SimDeploy },
    private readonly prefix: DaemonSender,
    private readonly prefixEvents: number,
    private readonly random: Random,
  ) {}

  get status(): DaemonStatus | undefined {
    return this.deployer?.status;
  }

  get done(): boolean {
    return this.deployer?.done ?? false;
  }

  start(): void {
    if (this.started) return;
    if (!this.parent.deploy.done) {
      this.environment.scheduler.schedule(DEPLOY_RETRY_US, 'fork waits for its parent', () => this.start());
      return;
    }
    this.started = true;
    this.sendPrefix(this.prefixEvents, -1);
  }

  private sendPrefix(remaining: number, lastOffset: number): void {
    if (remaining > 0) {
      this.prefix.sendOne((operation) =>
        this.sendPrefix(remaining - 1, Math.max(lastOffset, operation.inboundOffset ?? -1)),
      );
      return;
    }
    const forkPoint = this.random.nextInt(lastOffset + 2);
    this.forkPoint = forkPoint;
    this.environment.trace(`fork ${this.input.name} of ${this.parent.name} at inbound offset ${forkPoint}`);
    this.deployer = new DaemonDeployer(
      this.environment,
      { ...this.input, group: 'fork', forkOf: { parent: this.parent.name, inboundOffset: forkPoint } },
      this.random.fork('deploy'),
    );
    this.deployer.start();
  }
}

interface PendingEvent {
  readonly sequence: number;
  readonly payload: string;
  readonly key: string | undefined;
  readonly callTs: number;
  attempts: number;
  /** Whether an attempt may have applied it. */
  maybeApplied: boolean;
  readonly onDone: ((operation: DaemonSendOperation) => void) | undefined;
}

/**
 * One closed-loop sender of one daemon: one event at a time, each with the sender's client id
 * and the next sequence, through a random node; an attempt without a clear answer is tried
 * again (same sequence, maybe another node) up to `MAX_SEND_ATTEMPTS` times. Each event is
 * recorded: `ok` once acknowledged, `fail` when every attempt proved it was not applied, `info`
 * otherwise.
 */
export class DaemonSender extends ClosedLoopClient {
  private sequence = 0;

  /**
   * `routing` makes it a replica group's sender: each event gets a key drawn from `keys` (none
   * when empty: routed by the client id), and its record the key and the answering member.
   */
  constructor(
    readonly client: string,
    private readonly daemon: string,
    private readonly environment: DaemonClientEnvironment,
    private readonly random: Random,
    private readonly routing?: { readonly keys: readonly string[] },
  ) {
    super({
      scheduler: environment.scheduler,
      random,
      thinkTimeMaxUs: THINK_TIME_MAX_US,
      label: 'daemon send',
    });
  }

  protected step(): void {
    this.sendOne();
  }

  /** Sends the next event; `onDone` gets its recorded operation (the loop goes on only without one). */
  sendOne(onDone?: (operation: DaemonSendOperation) => void): void {
    this.begun();
    const sequence = ++this.sequence;
    const keys = this.routing?.keys ?? [];
    this.attempt({
      sequence,
      payload: `${this.client}:${sequence}`,
      key: keys.length === 0 ? undefined : keys[this.random.nextInt(keys.length)],
      callTs: this.environment.scheduler.nowUs * 1_000,
      attempts: 0,
      maybeApplied: false,
      onDone,
    });
  }

  private attempt(event: PendingEvent): void {
    const { environment, daemon } = this;
    event.attempts++;
    const node = environment.nodeIds[this.random.nextInt(environment.nodeIds.length)]!;
    const settle = (outcome: RequestOutcome | undefined): void => {
      if (outcome?.ok === true) {
        const { inboundOffset, memberIndex } = outcome.value as {
          inboundOffset: number;
          memberIndex: number;
        };
        this.finish(event, 'ok', { inboundOffset, memberIndex });
        return;
      }
      const code = codeOf(outcome);
      if (code === undefined || !NOT_APPLIED_CODES.has(code)) event.maybeApplied = true;
      environment.trace(`daemon send ${event.payload} via ${node} failed: ${describe(outcome)}`);
      if (event.attempts < MAX_SEND_ATTEMPTS) {
        environment.scheduler.schedule(
          this.random.nextIntBetween(RETRY_BACKOFF_MIN_US, RETRY_BACKOFF_MAX_US),
          'daemon send retry',
          () => this.attempt(event),
        );
        return;
      }
      this.finish(event, event.maybeApplied ? 'info' : 'fail');
    };
    requestOnce(
      environment.scheduler,
      environment.request,
      node,
      (process) =>
        environment.daemonsOf(process, daemon).requests.send(
          daemon,
          {
            payload: encoder.encode(event.payload),
            ...(event.key === undefined ? {} : { key: event.key }),
            clientId: this.client,
            sequence: event.sequence,
          },
          DAEMON_SEND_TIMEOUT_MS,
        ),
      DAEMON_CLIENT_TIMEOUT_US,
      'daemon send timeout',
      settle,
    );
  }

  private finish(
    event: PendingEvent,
    status: DaemonSendOperation['status'],
    answer?: { readonly inboundOffset: number; readonly memberIndex: number },
  ): void {
    const nowNs = this.environment.scheduler.nowUs * 1_000;
    const operation: DaemonSendOperation = {
      client: this.client,
      daemon: this.daemon,
      sequence: event.sequence,
      payload: event.payload,
      status,
      attempts: event.attempts,
      ...(event.key === undefined ? {} : { key: event.key }),
      ...(this.routing === undefined || answer === undefined ? {} : { memberIndex: answer.memberIndex }),
      ...(answer === undefined ? {} : { inboundOffset: answer.inboundOffset }),
      callTs: event.callTs,
      ...(status === 'info' ? {} : { returnTs: nowNs }),
    };
    this.environment.record(operation);
    this.done(event.onDone === undefined);
    event.onDone?.(operation);
  }
}
