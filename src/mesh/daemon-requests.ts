/**
 * The node's `DaemonsBackend` (docs/DAEMONS.md): deploy places the members and creates the
 * daemon's chains (replicas on the members' nodes, the chain leader on the active's node) before
 * it commits the definition; send goes to the active's node (here, or forwarded over the daemons
 * channel with what is left of the deadline), which appends the event to the inbound chain under
 * its epoch, waits for its own member to apply it and answers with the outputs. Whether a failed
 * event was applied is never guessed: `DAEMON_UNAVAILABLE` only when it was certainly not
 * appended (or was appended and refused by the epoch rule), `DAEMON_EVENT_OUTCOME_UNKNOWN`
 * otherwise.
 */

import type {
  ChainAppendResult,
  ChainsBackend,
  DaemonDeployInput,
  DaemonMoveResult,
  DaemonOutput,
  DaemonSendResult,
  DaemonStateResult,
  DaemonsBackend,
} from '../api/index.js';
import { type ChainDirectory, SharedAppends, type StoredChain } from '../chains/index.js';
import { daemonChainNames, daemonChainPairs, memberChains } from '../daemons/chain-names.js';
import {
  DaemonEventOutcomeUnknownError,
  DaemonExistsError,
  DaemonNotActiveHereError,
  DaemonPeerFrameError,
  DaemonUnavailableError,
} from '../daemons/cluster-errors.js';
import { validateDaemonDeploy } from '../daemons/deploy-request.js';
import { type DaemonDirectory, memberNode, type StoredDaemon } from '../daemons/directory.js';
import { checkDaemonEvent } from '../daemons/event-input.js';
import { encodeForkRecord, type ForkRecord } from '../daemons/fork-record.js';
import { validateKindConfig } from '../daemons/kinds/index.js';
import { checkMoveTarget } from '../daemons/move-target.js';
import {
  type DaemonPlacementNode,
  daemonChainReplicas,
  healthyNodeIds,
  placeDaemonMembers,
} from '../daemons/placement.js';
import { encodeInboundEventRecord } from '../daemons/record-codec.js';
import { routeReplicaEvent } from '../daemons/replica-routing.js';
import { trimChainPrefix } from '../daemons/trim-floor.js';
import type {
  DaemonDefinition,
  DaemonEventInput,
  DaemonKindCatalog,
  DaemonMemberStatus,
  DaemonStatus,
} from '../daemons/types.js';
import {
  type Clock,
  type Logger,
  MeshError,
  type NodeId,
  PeerRequestError,
  ValidationError,
} from '../lib/index.js';
import { lastMemberCheckpoint, serveCheckpointChunk } from './daemon-checkpoint-transfer.js';
import { forkRecordFor } from './daemon-fork.js';
import type { DaemonMember } from './daemon-member.js';
import type { DaemonMembers } from './daemon-members.js';
import { DaemonMover, MOVE_REQUESTS } from './daemon-move.js';
import { readOutputs } from './daemon-outputs.js';
import type { DaemonPeerRequests, PeerMessage } from './daemon-peer-requests.js';
import { ReplicaLoads } from './daemon-replica-loads.js';
import { pinTrimFloor } from './daemon-trim-floor.js';

/** Longest wait between two looks at a daemon whose active could not take an event. */
export const ACTIVE_RETRY_WAIT_MS = 200;
/** How long a status or state question to another node may take. */
export const DAEMON_PEER_QUESTION_TIMEOUT_MS = 1_000;
/**
 * A send does not wait for its event's outputs to reach the output chain, unless the output
 * writer has fallen this many events behind: then it waits (at most OUTPUT_LAG_WAIT_MS) for the
 * writer to come within it. That backpressure keeps the writer inside the outcomes a member
 * remembers (MEMBER_RECENT_OUTCOMES) when the output chain stalls, without making every event
 * wait for a second replicated append.
 */
export const MAX_OUTPUT_LAG_EVENTS = 1_024;
/** How long, at most, a send waits for a lagging output writer. */
export const OUTPUT_LAG_WAIT_MS = 2_000;
/** Time kept back from a forwarded send's deadline so its answer can come back in time. */
export const FORWARD_ANSWER_MARGIN_MS = 100;
/** An inbound append whose senders gave no budget (never: every send has a deadline). */
export const DEFAULT_INBOUND_APPEND_TIMEOUT_MS = 10_000;
/** How long a fork's deploy waits for the record that starts its chain to be durable. */
export const FORK_START_TIMEOUT_MS = 10_000;

/** Codes proving a chain append was not written. */
const CHAIN_NOT_WRITTEN: ReadonlySet<string> = new Set([
  'CHAIN_NOT_LEADER',
  'CHAIN_UNAVAILABLE',
  'CHAIN_OVERLOADED',
]);
/** Codes an active's node answers a send with when it did not apply the event: try the next active. */
const SEND_ELSEWHERE: ReadonlySet<string> = new Set(['DAEMON_NOT_ACTIVE_HERE', 'DAEMON_UNAVAILABLE']);

export interface DaemonRequestsOptions {
  readonly self: NodeId;
  readonly directory: DaemonDirectory;
  readonly chainDirectory: Pick<ChainDirectory, 'create' | 'delete'>;
  readonly chains: ChainsBackend;
  readonly catalog: DaemonKindCatalog;
  readonly members: DaemonMembers;
  readonly peers: DaemonPeerRequests;
  /** The definitions this node follows, by name. */
  readonly definitions: () => ReadonlyMap<string, StoredDaemon>;
  /** The operator's member count for a daemon (`meshos daemon scale`), as this node follows it. */
  readonly desiredMembers: (daemon: string) => Promise<number | undefined>;
  /** Resolves when the followed definitions change, or after `timeoutMs`. */
  readonly nextChange: (timeoutMs: number) => Promise<void>;
  /** The mesh's nodes and whether each can run a member now. */
  readonly nodes: () => readonly DaemonPlacementNode[];
  /**
   * The definitions of the daemon's chains as the control plane holds them: a move's cutover
   * hands them to the new active's node in its transaction (`chainTakeover`). Absent: not moved.
   */
  readonly chainsOf?: (daemon: DaemonDefinition) => Promise<readonly StoredChain[]>;
  readonly clock: Clock;
  readonly logger?: Logger;
}

/** The member a send goes to and its node. */
interface SendTarget {
  readonly index: number;
  readonly node: NodeId;
}

export class DaemonRequests implements DaemonsBackend {
  private readonly mover: DaemonMover;
  private readonly replicaLoads = new ReplicaLoads();
  /**
   * The sends taken together on this node (those of one peer frame, one delivery) append to a
   * member's inbound chain in one call (consecutive records, each its own offset): one chain
   * request, one leader append, one deadline instead of one of each per event.
   */
  private readonly inboundAppends: SharedAppends<DaemonMember>;

  constructor(private readonly options: DaemonRequestsOptions) {
    this.mover = new DaemonMover(options);
    this.inboundAppends = new SharedAppends(
      (member, payloads, timeoutMs) => this.appendInbound(member, payloads, timeoutMs),
      options.clock,
      // The sends of one delivery (a peer frame carries a turn's forwarded sends) join; waiting
      // for the end of the turn would cost a lone sender an event-loop iteration per event.
      queueMicrotask,
    );
    options.peers.serve((_from, request) => this.serveForwarded(request));
  }

  async deploy(input: DaemonDeployInput): Promise<DaemonStatus> {
    const { catalog, directory, chainDirectory, chains, clock, self } = this.options;
    const spec = validateDaemonDeploy(input);
    const kind = catalog.get(spec.kind);
    if ((await directory.get(spec.name)) !== undefined) throw new DaemonExistsError(spec.name);
    const forkOf = spec.forkOf;
    const parent = forkOf === undefined ? undefined : await this.definition(forkOf.parent);
    // A fork starts from its parent's state at the fork point, the first record of its chain.
    const fork =
      forkOf === undefined || parent === undefined
        ? undefined
        : await forkRecordFor({
            spec: { ...spec, forkOf },
            parent,
            chains,
            catalog,
            self,
            clock,
            parentCheckpoint: () =>
              lastMemberCheckpoint(this.options.peers, parent, this.options.members.get(parent.name)),
            pinParentFloor: (offset) =>
              pinTrimFloor(this.options.directory.plane, parent.name, spec.name, offset),
          });
    const config = parent === undefined ? spec.config : parent.config;
    validateKindConfig(kind, config);
    const existing = [...this.options.definitions().values()].map((stored) => stored.definition);
    const nodes = this.options.nodes();
    const memberNodes = placeDaemonMembers({
      name: spec.name,
      memberCount: spec.memberCount,
      nodes,
      existing,
    });
    const definition: DaemonDefinition = {
      name: spec.name,
      kind: spec.kind,
      group: spec.group,
      config,
      members: memberNodes.map((node, index) => ({ index, node })),
      ...(spec.group === 'replica' ? {} : { active: 0 }),
      standbyMode: spec.standbyMode,
      acks: spec.acks,
      epoch: 1,
      // The definition's codec takes whole milliseconds; a clock may answer a fraction.
      createdAtMs: Math.floor(clock.wallMs()),
      ...(fork === undefined ? {} : { forkOf: { parent: fork.parent, inboundOffset: fork.inboundOffset } }),
    };
    // A floor left by an earlier deployment under this name (a remove that did not finish) goes.
    for (const chain of daemonChainNames(definition))
      await this.options.directory.plane.deletePrefix(trimChainPrefix(chain));
    for (const [index, pair] of daemonChainPairs(definition, memberNodes.length).entries()) {
      // A replica member's chains lead on its node, their other replicas on the nodes running
      // fewest members (this daemon's counted), where a lost member is rebuilt; a group's
      // chains lead on the active's node, replicated on every member's.
      const leader = memberNodes[spec.group === 'replica' ? index : 0] as NodeId;
      const replicas =
        spec.group === 'replica'
          ? daemonChainReplicas([leader], nodes, [...existing, definition])
          : daemonChainReplicas(memberNodes, nodes, existing);
      for (const chain of [pair.inbound, pair.outputs]) {
        try {
          await chainDirectory.create(
            { name: chain, replicas: replicas.length, acks: spec.acks, origin: leader },
            { replicas, leader },
          );
        } catch (error) {
          if (error instanceof MeshError && error.code === 'CHAIN_EXISTS')
            throw new DaemonExistsError(
              spec.name,
              `its chain ${chain} exists (an unfinished deploy or remove?)`,
            );
          throw error;
        }
      }
    }
    if (fork !== undefined) await this.startFork(definition, fork);
    await directory.create(definition);
    return this.statusOf(definition);
  }

  /**
   * Appends the fork record as the first record of the fork's inbound chain. When it fails the
   * fork's chains are deleted again (nothing is deployed) and the deploy may be tried again.
   */
  private async startFork(definition: DaemonDefinition, fork: ForkRecord): Promise<void> {
    const chain = memberChains(definition, 0).inbound;
    try {
      await this.options.chains.append(chain, [encodeForkRecord(fork)], FORK_START_TIMEOUT_MS);
    } catch (error) {
      await this.deleteChains(definition).catch(() => undefined);
      throw new DaemonUnavailableError(definition.name, `its fork record did not reach ${chain}`, error);
    }
  }

  async list(): Promise<readonly DaemonDefinition[]> {
    return (await this.options.directory.list()).map((stored) => stored.definition);
  }

  async status(name: string): Promise<DaemonStatus> {
    return this.statusOf(await this.definition(name));
  }

  async send(name: string, event: DaemonEventInput, timeoutMs: number): Promise<DaemonSendResult> {
    const { clock } = this.options;
    const definition = await this.definition(name);
    checkDaemonEvent(name, event);
    const deadlineMs = clock.nowMs() + timeoutMs;
    let lastRefusal: unknown;
    for (;;) {
      const remainingMs = Math.floor(deadlineMs - clock.nowMs());
      if (remainingMs <= 0)
        throw new DaemonUnavailableError(
          name,
          `no active took the event within ${timeoutMs} ms`,
          lastRefusal,
        );
      const current = this.options.definitions().get(name)?.definition ?? definition;
      const target = this.targetOf(current, event);
      try {
        // A node whose connection closed (or whose registration is gone) would hold the event
        // in a queue until the deadline: wait for the promotion (or a replica's move) instead.
        if (target !== undefined && target.node !== this.options.self && !this.isHealthy(target.node))
          throw new DaemonUnavailableError(
            name,
            `the node ${target.node} of member ${target.index} is not healthy`,
          );
        if (target !== undefined) return await this.sendTo(current, target, event, remainingMs);
      } catch (error) {
        if (!(error instanceof MeshError) || !SEND_ELSEWHERE.has(error.code)) throw error;
        lastRefusal = error;
      }
      await this.options.nextChange(Math.min(ACTIVE_RETRY_WAIT_MS, Math.max(0, deadlineMs - clock.nowMs())));
    }
  }

  /** The member that takes `event`: the active, or for a replica group the routed member. */
  private targetOf(definition: DaemonDefinition, event: DaemonEventInput): SendTarget | undefined {
    let index = definition.active;
    if (definition.group === 'replica') {
      const healthy = healthyNodeIds(this.options.nodes());
      const loads = this.replicaLoads.loads(definition, (node) => healthy.has(node));
      index = routeReplicaEvent(event, loads, this.replicaLoads.nextTurn())?.index;
    }
    const node = memberNode(definition, index);
    return index === undefined || node === undefined ? undefined : { index, node };
  }

  /** Sends to `target`'s node (here or forwarded); a replica group's router counts it as load. */
  private async sendTo(
    definition: DaemonDefinition,
    target: SendTarget,
    event: DaemonEventInput,
    timeoutMs: number,
  ): Promise<DaemonSendResult> {
    const { name } = definition;
    const finished =
      definition.group === 'replica' ? this.replicaLoads.started(name, target.index) : undefined;
    let saturation: number | undefined;
    try {
      if (target.node === this.options.self) {
        const result = await this.sendLocally(name, event, timeoutMs, target.index);
        saturation = this.options.members.get(name)?.saturation;
        return result;
      }
      const answer = await this.sendForwarded(target, name, event, timeoutMs);
      saturation = answer.saturation;
      return answer.result;
    } finally {
      finished?.(saturation);
    }
  }

  async state(name: string, memberIndex?: number): Promise<DaemonStateResult> {
    const definition = await this.definition(name);
    const index = memberIndex ?? definition.active ?? 0;
    const node = memberNode(definition, index);
    if (node === undefined)
      throw new ValidationError(`state request of daemon ${name}`, [`it has no member ${index}`]);
    if (node === this.options.self) return this.localState(name);
    const answer = await this.options.peers.requestWhenConnected(
      node,
      { header: { type: 'state', name }, blobs: [] },
      DAEMON_PEER_QUESTION_TIMEOUT_MS,
    );
    const header = answer.header as { epoch: number; memberIndex: number; appliedThrough: number };
    return { name, ...pick(header), state: answer.blobs[0] ?? new Uint8Array(0) };
  }

  outputs(
    name: string,
    fromSequence: number,
    follow: boolean,
    signal: AbortSignal,
    memberIndex?: number,
  ): AsyncIterable<DaemonOutput> {
    const definition = this.definition(name);
    const chains = this.options.chains;
    return {
      async *[Symbol.asyncIterator]() {
        const found = await definition;
        const index = memberIndex ?? found.active ?? 0;
        if (memberNode(found, index) === undefined)
          throw new ValidationError(`outputs request of daemon ${name}`, [`it has no member ${index}`]);
        yield* readOutputs(chains, memberChains(found, index).outputs, fromSequence, follow, signal);
      },
    };
  }

  /** Runs on the active's node (`DaemonMover`): here, or forwarded there. */
  async move(name: string, to: NodeId, timeoutMs: number): Promise<DaemonMoveResult> {
    const definition = await this.definition(name);
    const activeNode = checkMoveTarget(definition, to, this.options.nodes());
    if (activeNode === this.options.self) return this.mover.move(name, to, timeoutMs);
    const answer = await this.options.peers.requestWhenConnected(
      activeNode,
      {
        header: { type: 'move', name, to, timeoutMs: Math.max(1, timeoutMs - FORWARD_ANSWER_MARGIN_MS) },
        blobs: [],
      },
      timeoutMs,
    );
    return answer.header as unknown as DaemonMoveResult;
  }

  async remove(name: string): Promise<void> {
    const definition = await this.definition(name);
    await this.options.directory.delete(name);
    await this.deleteChains(definition);
  }

  private async deleteChains(definition: DaemonDefinition): Promise<void> {
    for (const chain of daemonChainNames(definition)) {
      // A later deploy under this name starts its chains at 0: no floor of this one may apply.
      await this.options.directory.plane.deletePrefix(trimChainPrefix(chain));
      await this.options.chainDirectory.delete(chain).catch((error: unknown) => {
        if (!(error instanceof MeshError && error.code === 'CHAIN_NOT_FOUND')) throw error;
      });
    }
  }

  /** Whether `node` is registered and not suspected in this node's view. */
  private isHealthy(node: NodeId): boolean {
    return this.options.nodes().some((candidate) => candidate.id === node && candidate.healthy);
  }

  /** The definition this node follows, else the control plane's (DAEMON_NOT_FOUND). */
  private async definition(name: string): Promise<DaemonDefinition> {
    return (
      this.options.definitions().get(name)?.definition ??
      (await this.options.directory.require(name)).definition
    );
  }

  private async statusOf(definition: DaemonDefinition): Promise<DaemonStatus> {
    const { chains, nodes } = this.options;
    const healthy = healthyNodeIds(nodes());
    const membersRead = Promise.all(
      definition.members.map(async ({ index, node }): Promise<DaemonMemberStatus> => {
        const progress = await this.progressOf(definition.name, node).catch(() => undefined);
        return {
          index,
          node,
          role: memberRole(definition, index),
          syncedThrough: progress?.syncedThrough ?? -1,
          healthy: healthy.has(node) && progress !== undefined && progress.index === index,
        };
      }),
    );
    // A replica group's members each have an inbound chain: the group's is their sum, which the
    // members' syncedThrough add up to exactly when every member applied its chain's end.
    const commitsRead = Promise.all(
      daemonChainPairs(definition, definition.members.length).map((pair) =>
        chains
          .status(pair.inbound)
          .then((status) => status.commitOffset)
          .catch(() => -1),
      ),
    );
    // The operator's count (`meshos daemon scale`) shows whether reconcile still has members to
    // start or stop.
    const [members, commits, desired] = await Promise.all([
      membersRead,
      commitsRead,
      this.options.desiredMembers(definition.name),
    ]);
    const inboundThrough = commits.includes(-1) ? -1 : commits.reduce((sum, commit) => sum + commit, 0);
    return {
      name: definition.name,
      kind: definition.kind,
      group: definition.group,
      epoch: definition.epoch,
      members,
      inboundThrough,
      ...(desired === undefined ? {} : { desiredMembers: desired }),
    };
  }

  /** What the member of `name` on `node` has applied (undefined: none runs there). */
  async progressOf(
    name: string,
    node: NodeId,
  ): Promise<{ index: number; syncedThrough: number } | undefined> {
    if (node === this.options.self) return this.localProgress(name);
    const answer = await this.options.peers.request(
      node,
      { header: { type: 'progress', name }, blobs: [] },
      DAEMON_PEER_QUESTION_TIMEOUT_MS,
    );
    const { index, syncedThrough } = answer.header;
    return typeof index === 'number' && typeof syncedThrough === 'number'
      ? { index, syncedThrough }
      : undefined;
  }

  private localProgress(name: string): { index: number; syncedThrough: number } | undefined {
    const member = this.options.members.get(name);
    // Past the markers it read too, so a member at its chain's end reports the commit offset.
    return member === undefined ? undefined : { index: member.index, syncedThrough: member.followedThrough };
  }

  private async localState(name: string): Promise<DaemonStateResult> {
    const member = this.options.members.get(name);
    if (member === undefined)
      throw new DaemonUnavailableError(name, `no member of it runs on node ${this.options.self}`);
    const { state, appliedThrough } = await member.state();
    return { name, epoch: member.epoch, memberIndex: member.index, appliedThrough, state };
  }

  /** On the active's node: append under the member's epoch, wait for it to be applied. */
  private async sendLocally(
    name: string,
    event: DaemonEventInput,
    timeoutMs: number,
    memberIndex: number | undefined,
  ): Promise<DaemonSendResult> {
    const { members, self } = this.options;
    const member = members.get(name);
    // Checked here and again when the turn's appends are handed on (`appendInbound`): a fenced
    // active appends nothing.
    if (
      member === undefined ||
      !member.accepting ||
      (memberIndex !== undefined && member.index !== memberIndex)
    ) {
      const epoch = this.options.definitions().get(name)?.definition.epoch ?? 0;
      throw new DaemonNotActiveHereError(name, self, epoch);
    }
    const done = member.gate.enter();
    try {
      return await this.appendAndApply(name, event, timeoutMs, member);
    } finally {
      done();
    }
  }

  private async appendAndApply(
    name: string,
    event: DaemonEventInput,
    timeoutMs: number,
    member: DaemonMember,
  ): Promise<DaemonSendResult> {
    const { clock } = this.options;
    const startedMs = clock.nowMs();
    const epoch = member.epoch;
    const record = encodeInboundEventRecord({
      epoch,
      payload: event.payload,
      ...(event.clientId === undefined || event.sequence === undefined
        ? {}
        : { clientId: event.clientId, sequence: event.sequence }),
      ...(event.key === undefined ? {} : { key: event.key }),
    });
    let offset: number;
    try {
      const key = `${name}/${member.index}/${epoch}`;
      offset = (await this.inboundAppends.append(key, member, [record], timeoutMs)).firstOffset;
    } catch (error) {
      if (error instanceof DaemonNotActiveHereError) throw error;
      if (error instanceof MeshError && CHAIN_NOT_WRITTEN.has(error.code))
        throw new DaemonUnavailableError(name, 'the inbound chain took no append', error);
      throw new DaemonEventOutcomeUnknownError(name, 'the inbound append was not acknowledged', error);
    }
    const leftMs = Math.max(0, timeoutMs - (clock.nowMs() - startedMs));
    const outcome = await member.waitFor(offset, leftMs);
    if (outcome === undefined)
      throw new DaemonEventOutcomeUnknownError(
        name,
        `appended at inbound offset ${offset}, not applied here in time`,
      );
    if (outcome.type === 'refused')
      throw new DaemonUnavailableError(
        name,
        `the event at inbound offset ${offset} was refused: ${outcome.reason}`,
      );
    if (outcome.type === 'failed') {
      // A broken member is rebuilt from the chain; what the event did there is not known yet.
      if (outcome.code === 'DAEMON_MEMBER_BROKEN')
        throw new DaemonEventOutcomeUnknownError(
          name,
          `the member broke at inbound offset ${offset}: ${outcome.reason}`,
        );
      throw new MeshError(outcome.code, outcome.reason, { details: { name, inboundOffset: offset } });
    }
    await member.outputsWritten(
      offset - MAX_OUTPUT_LAG_EVENTS,
      Math.min(OUTPUT_LAG_WAIT_MS, Math.max(0, timeoutMs - (clock.nowMs() - startedMs))),
    );
    return {
      epoch,
      inboundOffset: offset,
      memberIndex: member.index,
      duplicate: outcome.duplicate,
      outputs: outcome.outputs,
    };
  }

  /**
   * One shared append of the turn's events to `member`'s inbound chain. Checked again as it is
   * handed on: an active fenced since its sends were taken appends nothing (they go elsewhere).
   */
  private appendInbound(
    member: DaemonMember,
    payloads: readonly Uint8Array[],
    timeoutMs: number | undefined,
  ): Promise<ChainAppendResult> {
    if (!member.servesAsActive())
      return Promise.reject(new DaemonNotActiveHereError(member.name, this.options.self, member.epoch));
    return this.options.chains.append(
      member.ownChains.inbound,
      payloads,
      timeoutMs ?? DEFAULT_INBOUND_APPEND_TIMEOUT_MS,
    );
  }

  /** The member's answer and the saturation its node reported with it. */
  private async sendForwarded(
    target: SendTarget,
    name: string,
    event: DaemonEventInput,
    timeoutMs: number,
  ): Promise<{ readonly result: DaemonSendResult; readonly saturation: number | undefined }> {
    const request: PeerMessage = {
      header: {
        type: 'send',
        name,
        member: target.index,
        timeoutMs: Math.max(1, timeoutMs - FORWARD_ANSWER_MARGIN_MS),
        ...(event.clientId === undefined ? {} : { clientId: event.clientId }),
        ...(event.sequence === undefined ? {} : { sequence: event.sequence }),
        ...(event.key === undefined ? {} : { key: event.key }),
      },
      blobs: [event.payload],
    };
    let answer: PeerMessage;
    try {
      answer = await this.options.peers.request(target.node, request, timeoutMs);
    } catch (error) {
      if (error instanceof PeerRequestError) {
        if (!error.sent) throw new DaemonUnavailableError(name, error.message, error);
        throw new DaemonEventOutcomeUnknownError(name, error.message, error);
      }
      throw error;
    }
    const header = answer.header as {
      epoch: number;
      inboundOffset: number;
      memberIndex: number;
      duplicate: boolean;
      saturation?: unknown;
    };
    return {
      result: {
        epoch: header.epoch,
        inboundOffset: header.inboundOffset,
        memberIndex: header.memberIndex,
        duplicate: header.duplicate,
        outputs: answer.blobs,
      },
      saturation: typeof header.saturation === 'number' ? header.saturation : undefined,
    };
  }

  /** A request another node sent here. A forwarded send is served here only, never forwarded on. */
  private async serveForwarded(request: PeerMessage): Promise<PeerMessage> {
    const header = request.header;
    const name = String(header.name);
    if (MOVE_REQUESTS.has(String(header.type))) return this.mover.serve(header);
    switch (header.type) {
      case 'send': {
        const event: DaemonEventInput = {
          payload: request.blobs[0] ?? new Uint8Array(0),
          ...(typeof header.clientId === 'string' ? { clientId: header.clientId } : {}),
          ...(typeof header.sequence === 'number' ? { sequence: header.sequence } : {}),
          ...(typeof header.key === 'string' ? { key: header.key } : {}),
        };
        checkDaemonEvent(name, event);
        const memberIndex = typeof header.member === 'number' ? header.member : undefined;
        const result = await this.sendLocally(name, event, Number(header.timeoutMs), memberIndex);
        const { outputs, ...fields } = result;
        const saturation = this.options.members.get(name)?.saturation;
        return { header: { ...fields, ...(saturation === undefined ? {} : { saturation }) }, blobs: outputs };
      }
      case 'progress':
        return { header: { ...this.localProgress(name) }, blobs: [] };
      case 'state': {
        const { state, ...fields } = await this.localState(name);
        return { header: { ...fields }, blobs: [state] };
      }
      case 'checkpoint':
        return serveCheckpointChunk(this.options.members.get(name), name, header);
      default:
        throw new DaemonPeerFrameError(`unknown daemons request ${String(header.type)}`);
    }
  }
}

/** A member's role in status: the active, a standby, or (in a replica group) a replica. */
function memberRole(definition: DaemonDefinition, index: number): DaemonMemberStatus['role'] {
  if (definition.group === 'replica') return 'replica';
  return index === definition.active ? 'active' : 'standby';
}

function pick(header: { epoch: number; memberIndex: number; appliedThrough: number }) {
  return { epoch: header.epoch, memberIndex: header.memberIndex, appliedThrough: header.appliedThrough };
}
