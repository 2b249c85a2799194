/**
 * `client.daemons`: the `meshos.v1.Daemons` service. Any endpoint serves any daemon (the node
 * routes an event to the daemon's active), so calls go wherever the client's endpoint choice
 * points and fail over like every other call. Which failures are sent again is said in
 * daemon-errors.ts; in short: reads always, changes and sends only when nothing was applied, and
 * a send whose event carries `clientId` and `sequence` also when its outcome is unknown (the
 * daemon recognises the repeat). Deploy and remove default to `DEFAULT_DAEMON_CHANGE_TIMEOUT_MS`,
 * move to `DEFAULT_DAEMON_MOVE_TIMEOUT_MS`, the rest to the client's own budget.
 */
import type {
  DaemonDeployInput,
  DaemonMoveResult,
  DaemonSendResult,
  DaemonStateResult,
} from '../api/index.js';
import type { DaemonDefinition, DaemonStatus } from '../daemons/index.js';
import { InputProblems, isNodeId, type NodeId } from '../lib/index.js';
import {
  ACKS_PB,
  DAEMON_GROUP_PB,
  type PbDaemonStatus,
  type PbForkPoint,
  type PbListDaemonsResponse,
  type PbMoveResponse,
  type PbSendResponse,
  type PbStateResponse,
  STANDBY_MODE_PB,
} from '../protocol/index.js';
import { toBytes } from './bytes.js';
import {
  daemonDefinitionFromPb,
  daemonStatusFromPb,
  moveResultFromPb,
  sendResultFromPb,
  stateResultFromPb,
} from './convert-daemons.js';
import { type DaemonCallKind, daemonErrorFromGrpc } from './daemon-errors.js';
import { DaemonOutputStream } from './daemon-outputs.js';
import { DEFAULT_DAEMON_CHANGE_TIMEOUT_MS, DEFAULT_DAEMON_MOVE_TIMEOUT_MS } from './limits.js';
import { type ServiceTransport, serviceUnary } from './service-transport.js';
import type { Bytes, CallOptions } from './types.js';

/** A deploy's settings (as `DaemonDeployInput`, the name aside); `config` must survive JSON. */
export interface DaemonDeployOptions extends Omit<DaemonDeployInput, 'name'>, CallOptions {}

export interface DaemonSendOptions extends CallOptions {
  /** Replica groups route by a hash of it; non-empty. */
  readonly key?: string;
  /**
   * Together with `sequence`: the event's identity. A repeat of (clientId, sequence) is answered
   * with the first answer (`duplicate: true`) and not applied again, which also lets the client
   * send it again when its outcome is unknown. Sequences of one client id must increase.
   */
  readonly clientId?: string;
  readonly sequence?: number;
}

export interface DaemonOutputsOptions {
  /** The first output's sequence (its offset on the output chain); defaults to 0. */
  readonly fromSequence?: number;
  /** Keep waiting for new outputs after the current end (until `close()` or `signal`). */
  readonly follow?: boolean;
  /** A replica group's member (each has its own outputs); defaults to the active, or member 0. */
  readonly member?: number;
  /** Aborting it ends the iteration without an error. */
  readonly signal?: AbortSignal;
}

function checked<T>(subject: string, check: (problems: InputProblems) => T): T {
  const problems = new InputProblems();
  const value = check(problems);
  problems.throwIfAny(subject);
  return value;
}

function checkName(problems: InputProblems, name: string): void {
  if (name === '') problems.add('name is empty');
}

function checkCount(problems: InputProblems, field: string, value: number | undefined, min: number): void {
  if (value === undefined) return;
  if (!Number.isSafeInteger(value) || value < min)
    problems.add(`${field} must be an integer of at least ${min}, got ${value}`);
}

/** A fork's parent and fork point as the wire carries them (null: not a fork). */
function forkPointToPb(
  problems: InputProblems,
  forkOf: DaemonDeployOptions['forkOf'],
): PbForkPoint<number> | null {
  if (forkOf === undefined) return null;
  checkName(problems, forkOf.parent);
  checkCount(problems, 'forkOf.inboundOffset', forkOf.inboundOffset, 0);
  return {
    parent: forkOf.parent,
    inbound_offset: forkOf.inboundOffset === undefined ? null : { offset: forkOf.inboundOffset },
  };
}

/** The config as the JSON the wire carries (empty: none). */
function configJson(problems: InputProblems, config: unknown): string {
  if (config === undefined) return '';
  let text: string | undefined;
  try {
    text = JSON.stringify(config);
  } catch (error) {
    problems.add(
      `config cannot be written as JSON: ${error instanceof Error ? error.message : String(error)}`,
    );
    return '';
  }
  if (text === undefined) problems.add('config cannot be written as JSON');
  return text ?? '';
}

export class DaemonsClient {
  constructor(private readonly transport: ServiceTransport) {}

  /** Places the members, records the daemon, and answers its status. DAEMON_EXISTS when the name is taken. */
  async deploy(name: string, options: DaemonDeployOptions): Promise<DaemonStatus> {
    const request = checked('deploy options', (problems) => {
      checkName(problems, name);
      if (DAEMON_GROUP_PB.toPb[options.group] === undefined) {
        problems.add(`group must be single, standby, replica or fork, got ${String(options.group)}`);
      }
      checkCount(problems, 'members', options.members, 1);
      return {
        name,
        kind: options.kind,
        group: DAEMON_GROUP_PB.toPb[options.group],
        members: options.members,
        config_json: configJson(problems, options.config),
        standby_mode: options.standbyMode === undefined ? 0 : STANDBY_MODE_PB.toPb[options.standbyMode],
        acks: options.acks === undefined ? 0 : ACKS_PB.toPb[options.acks],
        fork_of: forkPointToPb(problems, options.forkOf),
      };
    });
    const pb = await this.unary<PbDaemonStatus>('change', 'Deploy', request, {
      timeoutMs: options.timeoutMs ?? DEFAULT_DAEMON_CHANGE_TIMEOUT_MS,
    });
    return daemonStatusFromPb(pb);
  }

  /** Every deployed daemon's definition, by name. */
  async list(options: CallOptions = {}): Promise<readonly DaemonDefinition[]> {
    const pb = await this.unary<PbListDaemonsResponse>('read', 'List', {}, options);
    return pb.daemons.map(daemonDefinitionFromPb);
  }

  /** Members, their roles, nodes and progress; the inbound chain's durable end. */
  async status(name: string, options: CallOptions = {}): Promise<DaemonStatus> {
    return daemonStatusFromPb(await this.unary<PbDaemonStatus>('read', 'Status', { name }, options));
  }

  /**
   * Sends one event; resolves once it is durable and applied, with what it produced.
   * DAEMON_EVENT_OUTCOME_UNKNOWN when it may or may not have been applied (never after a retry
   * of an event with `clientId` and `sequence`, which is sent again until it is answered or the
   * budget runs out).
   */
  async send(name: string, payload: Bytes, options: DaemonSendOptions = {}): Promise<DaemonSendResult> {
    const identified = options.clientId !== undefined || options.sequence !== undefined;
    const request = checked('send options', (problems) => {
      checkName(problems, name);
      if (options.key === '') problems.add('key is empty (leave it out for no key)');
      if (
        identified &&
        (options.clientId === undefined || options.clientId === '' || options.sequence === undefined)
      ) {
        problems.add('clientId (non-empty) and sequence go together');
      }
      checkCount(problems, 'sequence', options.sequence, 0);
      return {
        name,
        payload: toBytes(payload),
        key: options.key ?? '',
        client_id: options.clientId ?? '',
        sequence: options.sequence ?? 0,
      };
    });
    const kind: DaemonCallKind = identified ? 'deduplicated-send' : 'send';
    return sendResultFromPb(await this.unary<PbSendResponse>(kind, 'Send', request, options));
  }

  /** The daemon's state (its `snapshot()`) on the active, or on member `member`. */
  async state(name: string, options: { member?: number } & CallOptions = {}): Promise<DaemonStateResult> {
    const request = checked('state options', (problems) => {
      checkName(problems, name);
      checkCount(problems, 'member', options.member, 0);
      return { name, member: options.member === undefined ? null : { index: options.member } };
    });
    return stateResultFromPb(await this.unary<PbStateResponse>('read', 'State', request, options));
  }

  /**
   * The daemon's outputs from `fromSequence`: iterate with `for await`; `break`, `close()` or the
   * signal ends it. Without `follow` it ends at the current end; with it, it waits for more. A
   * lost connection is resumed, on another endpoint if need be, from the output after the last
   * one delivered, so no output is skipped or repeated.
   */
  outputs(name: string, options: DaemonOutputsOptions = {}): DaemonOutputStream {
    checked('outputs options', (problems) => {
      checkName(problems, name);
      checkCount(problems, 'fromSequence', options.fromSequence, 0);
      checkCount(problems, 'member', options.member, 0);
    });
    this.transport.checkOpen();
    return new DaemonOutputStream(
      name,
      {
        fromSequence: options.fromSequence ?? 0,
        follow: options.follow ?? false,
        ...(options.member === undefined ? {} : { member: options.member }),
      },
      this.transport,
      options.signal,
    );
  }

  /** Moves the active (through the six phases) to node `to`; answers the phases and the pause. */
  async move(name: string, to: NodeId, options: CallOptions = {}): Promise<DaemonMoveResult> {
    checked('move options', (problems) => {
      checkName(problems, name);
      if (!isNodeId(to)) problems.add(`to must be a node id (a positive safe integer), got ${String(to)}`);
    });
    const pb = await this.unary<PbMoveResponse>(
      'change',
      'Move',
      { name, to },
      {
        timeoutMs: options.timeoutMs ?? DEFAULT_DAEMON_MOVE_TIMEOUT_MS,
      },
    );
    return moveResultFromPb(pb);
  }

  /** Stops every member and deletes the daemon and its chains. DAEMON_NOT_FOUND when absent. */
  async remove(name: string, options: CallOptions = {}): Promise<void> {
    checked('remove options', (problems) => checkName(problems, name));
    await this.unary(
      'change',
      'Remove',
      { name },
      { timeoutMs: options.timeoutMs ?? DEFAULT_DAEMON_CHANGE_TIMEOUT_MS },
    );
  }

  private unary<Response>(
    kind: DaemonCallKind,
    method: string,
    request: object,
    options: CallOptions,
  ): Promise<Response> {
    return serviceUnary<Response>(
      this.transport,
      {
        service: 'daemons',
        method,
        request,
        errorOf: (error, address) => daemonErrorFromGrpc(error, address, kind),
        changes: kind !== 'read',
      },
      options,
    );
  }
}
