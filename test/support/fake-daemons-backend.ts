/**
 * An in-memory `DaemonsBackend` for tests of the daemons API, client and CLI: one process, no
 * chains. Members sit on nodes 1..N of a fixed node set, member 0 is the active (every member is
 * a replica in a replica group), and every event is applied at once by one of two kinds:
 * `counter` (decimal integer payloads; state `{events, sum}`; output: the running sum) and
 * `journal` (output: the payload). Knobs for what a test must provoke: queued failures per
 * method, sends held until their deadline, and a per-event size limit.
 */
import type {
  DaemonDeployInput,
  DaemonMoveResult,
  DaemonOutput,
  DaemonSendResult,
  DaemonStateResult,
  DaemonsBackend,
} from '../../src/api/index.js';
import type {
  DaemonDefinition,
  DaemonEventInput,
  DaemonMemberStatus,
  DaemonStatus,
} from '../../src/daemons/types.js';
import { MeshError, type NodeId, ValidationError } from '../../src/lib/index.js';

export const FAKE_DAEMON_KINDS = ['counter', 'journal'] as const;
const DEFAULT_NODE_COUNT = 3;
const DEFAULT_MAX_EVENT_BYTES = 64 * 1024;
const FAKE_CREATED_AT_MS = 1_700_000_000_000;
const MOVE_PHASES = ['snapshot', 'transfer', 'restore', 'replay', 'cutover', 'complete'];

interface FakeDaemon {
  definition: DaemonDefinition;
  readonly outputs: DaemonOutput[];
  /** Applied events (the inbound chain's length). */
  inboundThrough: number;
  sum: number;
  /** First answers by `clientId:sequence`, so a repeat is answered, not applied. */
  readonly answered: Map<string, DaemonSendResult>;
  removed: boolean;
}

export interface FakeDaemonsBackendOptions {
  readonly nodeCount?: number;
  readonly maxEventBytes?: number;
}

export function daemonNotFound(name: string): MeshError {
  return new MeshError('DAEMON_NOT_FOUND', `no daemon named ${name}`, { details: { name } });
}

export class FakeDaemonsBackend implements DaemonsBackend {
  private readonly daemons = new Map<string, FakeDaemon>();
  private readonly failures = new Map<keyof DaemonsBackend, Error[]>();
  private readonly wakers = new Set<() => void>();
  private readonly nodes: readonly NodeId[];
  private readonly maxEventBytes: number;
  /** The timeout each send and move was given, in call order. */
  readonly sendTimeoutsMs: number[] = [];
  readonly moveTimeoutsMs: number[] = [];
  /** Sends that reached the backend (including those that failed), and events applied. */
  sendCalls = 0;
  applied = 0;
  /** Outputs iterables open now. */
  openOutputStreams = 0;
  /** When set, sends wait out their timeout and end with DAEMON_EVENT_OUTCOME_UNKNOWN. */
  holdSends = false;
  /** This many next sends apply their event, then fail with DAEMON_EVENT_OUTCOME_UNKNOWN (a lost answer). */
  loseAnswers = 0;

  constructor(options: FakeDaemonsBackendOptions = {}) {
    const nodeCount = options.nodeCount ?? DEFAULT_NODE_COUNT;
    this.nodes = Array.from({ length: nodeCount }, (_, index) => index + 1);
    this.maxEventBytes = options.maxEventBytes ?? DEFAULT_MAX_EVENT_BYTES;
  }

  /** The next `count` calls of `method` reject with `error` (before doing anything). */
  failNext(method: keyof DaemonsBackend, error: Error, count = 1): void {
    const queue = this.failures.get(method) ?? [];
    for (let index = 0; index < count; index++) queue.push(error);
    this.failures.set(method, queue);
  }

  clearFailures(): void {
    this.failures.clear();
  }

  async deploy(input: DaemonDeployInput): Promise<DaemonStatus> {
    this.takeFailure('deploy');
    if (this.daemons.has(input.name)) {
      throw new MeshError('DAEMON_EXISTS', `daemon ${input.name} already exists`, {
        details: { name: input.name },
      });
    }
    if (!(FAKE_DAEMON_KINDS as readonly string[]).includes(input.kind)) {
      throw new MeshError('DAEMON_KIND_UNKNOWN', `no node can run daemon kind '${input.kind}'`, {
        details: { kind: input.kind },
      });
    }
    if (input.members > this.nodes.length) {
      throw new MeshError(
        'DAEMON_PLACEMENT_FAILED',
        `${input.members} members need ${input.members} healthy nodes; ${this.nodes.length} are`,
        { details: { members: input.members, healthyNodes: this.nodes.length } },
      );
    }
    const definition: DaemonDefinition = {
      name: input.name,
      kind: input.kind,
      group: input.group,
      config: input.config,
      members: this.nodes.slice(0, input.members).map((node, index) => ({ index, node })),
      ...(input.group === 'replica' ? {} : { active: 0 }),
      standbyMode: input.standbyMode ?? 'hot',
      acks: input.acks ?? 'quorum',
      epoch: 1,
      createdAtMs: FAKE_CREATED_AT_MS,
      ...(input.forkOf === undefined
        ? {}
        : { forkOf: { parent: input.forkOf.parent, inboundOffset: input.forkOf.inboundOffset ?? 0 } }),
    };
    this.daemons.set(input.name, {
      definition,
      outputs: [],
      inboundThrough: 0,
      sum: 0,
      answered: new Map(),
      removed: false,
    });
    return this.statusOf(input.name);
  }

  async list(): Promise<readonly DaemonDefinition[]> {
    this.takeFailure('list');
    return [...this.daemons.values()]
      .map((daemon) => daemon.definition)
      .sort((left, right) => left.name.localeCompare(right.name));
  }

  async status(name: string): Promise<DaemonStatus> {
    this.takeFailure('status');
    return this.statusOf(name);
  }

  async send(name: string, event: DaemonEventInput, timeoutMs: number): Promise<DaemonSendResult> {
    this.sendCalls += 1;
    this.sendTimeoutsMs.push(timeoutMs);
    this.takeFailure('send');
    const daemon = this.daemon(name);
    if (event.payload.byteLength > this.maxEventBytes) {
      throw new MeshError(
        'DAEMON_EVENT_TOO_LARGE',
        `event of ${event.payload.byteLength} bytes is above daemon ${name}'s limit of ${this.maxEventBytes}`,
        { details: { name, bytes: event.payload.byteLength, limit: this.maxEventBytes } },
      );
    }
    if (this.holdSends) {
      await new Promise((resolve) => setTimeout(resolve, timeoutMs));
      throw new MeshError('DAEMON_EVENT_OUTCOME_UNKNOWN', `event to daemon ${name} has an unknown outcome`, {
        details: { name },
      });
    }
    const dedupKey = event.clientId === undefined ? undefined : `${event.clientId}:${event.sequence}`;
    const earlier = dedupKey === undefined ? undefined : daemon.answered.get(dedupKey);
    if (earlier !== undefined) return { ...earlier, duplicate: true };
    const output = this.apply(daemon, event.payload);
    const inboundOffset = daemon.inboundThrough;
    daemon.inboundThrough += 1;
    daemon.outputs.push({ sequence: daemon.outputs.length, inboundOffset, index: 0, payload: output });
    this.applied += 1;
    const result: DaemonSendResult = {
      epoch: daemon.definition.epoch,
      inboundOffset,
      memberIndex: daemon.definition.active ?? 0,
      duplicate: false,
      outputs: [output],
    };
    if (dedupKey !== undefined) daemon.answered.set(dedupKey, result);
    this.wake();
    if (this.loseAnswers > 0) {
      this.loseAnswers -= 1;
      throw new MeshError('DAEMON_EVENT_OUTCOME_UNKNOWN', `the answer to an event for ${name} was lost`, {
        details: { name },
      });
    }
    return result;
  }

  async state(name: string, memberIndex?: number): Promise<DaemonStateResult> {
    this.takeFailure('state');
    const daemon = this.daemon(name);
    const index = memberIndex ?? daemon.definition.active ?? 0;
    if (index >= daemon.definition.members.length) {
      throw new ValidationError('state request', [
        `member ${index} is not a member of ${name} (it has ${daemon.definition.members.length})`,
      ]);
    }
    return {
      name,
      epoch: daemon.definition.epoch,
      memberIndex: index,
      appliedThrough: daemon.inboundThrough,
      state: new TextEncoder().encode(JSON.stringify({ events: daemon.inboundThrough, sum: daemon.sum })),
    };
  }

  async *outputs(
    name: string,
    fromSequence: number,
    follow: boolean,
    signal: AbortSignal,
  ): AsyncIterable<DaemonOutput> {
    this.takeFailure('outputs');
    const daemon = this.daemon(name);
    this.openOutputStreams += 1;
    try {
      let next = fromSequence;
      while (!signal.aborted) {
        if (daemon.removed) throw daemonNotFound(name);
        const output = daemon.outputs[next];
        if (output !== undefined) {
          next += 1;
          yield output;
          continue;
        }
        if (!follow) return;
        await new Promise<void>((resolve) => {
          const wake = (): void => {
            this.wakers.delete(wake);
            signal.removeEventListener('abort', wake);
            resolve();
          };
          this.wakers.add(wake);
          signal.addEventListener('abort', wake, { once: true });
        });
      }
    } finally {
      this.openOutputStreams -= 1;
    }
  }

  async move(name: string, to: NodeId, timeoutMs: number): Promise<DaemonMoveResult> {
    this.moveTimeoutsMs.push(timeoutMs);
    this.takeFailure('move');
    const daemon = this.daemon(name);
    const definition = daemon.definition;
    if (!this.nodes.includes(to) || definition.members.some((member) => member.node === to)) {
      throw new ValidationError('move request', [`node ${to} is not a free node of the cluster`]);
    }
    const activeIndex = definition.active ?? 0;
    const from = definition.members[activeIndex]?.node ?? 0;
    daemon.definition = {
      ...definition,
      members: definition.members.map((member) =>
        member.index === activeIndex ? { index: activeIndex, node: to } : member,
      ),
      epoch: definition.epoch + 1,
    };
    return {
      name,
      epoch: daemon.definition.epoch,
      from,
      to,
      pauseMs: 1.5,
      phases: MOVE_PHASES.map((phase) => ({ phase, durationMs: 0.25 })),
    };
  }

  async remove(name: string): Promise<void> {
    this.takeFailure('remove');
    const daemon = this.daemon(name);
    daemon.removed = true;
    this.daemons.delete(name);
    this.wake();
  }

  private apply(daemon: FakeDaemon, payload: Uint8Array): Uint8Array {
    const text = new TextDecoder().decode(payload);
    if (daemon.definition.kind === 'journal') return payload;
    if (!/^-?\d{1,15}$/.test(text)) {
      throw new MeshError(
        'DAEMON_PROCESS_FAILED',
        `daemon ${daemon.definition.name} failed: '${text}' is not an integer`,
        {
          details: { name: daemon.definition.name },
        },
      );
    }
    daemon.sum += Number(text);
    return new TextEncoder().encode(String(daemon.sum));
  }

  private statusOf(name: string): DaemonStatus {
    const daemon = this.daemon(name);
    const { definition } = daemon;
    const members = definition.members.map(
      (member): DaemonMemberStatus => ({
        index: member.index,
        node: member.node,
        role:
          definition.group === 'replica'
            ? 'replica'
            : member.index === definition.active
              ? 'active'
              : 'standby',
        syncedThrough: daemon.inboundThrough,
        healthy: true,
      }),
    );
    return {
      name,
      kind: definition.kind,
      group: definition.group,
      epoch: definition.epoch,
      members,
      inboundThrough: daemon.inboundThrough,
    };
  }

  private daemon(name: string): FakeDaemon {
    const daemon = this.daemons.get(name);
    if (daemon === undefined) throw daemonNotFound(name);
    return daemon;
  }

  private takeFailure(method: keyof DaemonsBackend): void {
    const error = this.failures.get(method)?.shift();
    if (error !== undefined) throw error;
  }

  private wake(): void {
    for (const wake of [...this.wakers]) wake();
  }
}
