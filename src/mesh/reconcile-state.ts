/**
 * Observed and desired state for reconcile passes, kept from the control plane by watches (a
 * listing, then the changes; docs/RECONCILE.md "Where the state comes from"): the daemons'
 * definitions (`daemons/`), the reconcile records (`reconcile/`: node reports, backoffs, avoid
 * list), the membership view (nodes: health, zone, capacity), the proximity matrix (RTT rows),
 * and the state sources parts register on the hub (maintenance, blobs). A pass builds its input
 * from what is held, so no pass lists anything; every change calls `onChange`.
 */
import {
  type ChainDirectory,
  DEFAULT_MAX_CHAINS_PER_NODE,
  type ProximityMatrix,
  type StatusLearnerProgress,
} from '../chains/index.js';
import {
  type ControlEntry,
  type ControlPlane,
  KEYSPACE_PREFIXES,
  PrefixFollower,
  reconcileAvoidPrefix,
  reconcileBackoffPrefix,
  reconcileDesiredPrefix,
  reconcileOperatorAvoidPrefix,
  reconcileReportsPrefix,
} from '../control/index.js';
import { memberCountRange } from '../daemons/definition-codec.js';
import {
  DaemonDirectory,
  type DaemonFollower,
  type StoredDaemon,
  servesEvents,
} from '../daemons/directory.js';
import type { DaemonDefinition } from '../daemons/types.js';
import { type Clock, type Logger, type NodeId, nodeIdFromText } from '../lib/index.js';
import {
  ACTIVE,
  type AvoidEntry,
  type BlobSpec,
  type DesiredState,
  type MaintenanceRequest,
  type MaintenanceState,
  type ObservedBlob,
  type ObservedDaemon,
  type ObservedNode,
  type ObservedReplica,
  type ObservedState,
  type PendingAction,
  type ReconcileTime,
  type RttRow,
} from '../reconcile/index.js';
import type { MaintenanceStates } from './maintenance-view.js';
import type { MemberNode } from './membership-view.js';
import { type ChainsInput, ReconcileChains } from './reconcile-chains.js';
import type { ReconcileHub } from './reconcile-hub.js';
import { DEFAULT_NODE_DAEMON_CAPACITY } from './reconcile-limits.js';
import {
  type AvoidRecord,
  type BackoffRecord,
  type NodeReport,
  type OperatorAvoidRecord,
  readAvoidRecord,
  readBackoffRecord,
  readDesiredMembersRecord,
  readNodeReport,
  readOperatorAvoidRecord,
} from './reconcile-records.js';

/** The zone of a node whose record names none. */
export const DEFAULT_ZONE = 'default';

export interface ReconcileStateOptions {
  readonly plane: ControlPlane;
  /** The registered nodes (the membership view) and a subscription to their changes. */
  readonly nodes: () => readonly MemberNode[];
  readonly onNodesChange: (listener: () => void) => () => void;
  readonly proximity: () => ProximityMatrix | undefined;
  readonly hub: ReconcileHub;
  readonly clock: Clock;
  readonly logger?: Logger;
  /** The chains' definitions and learners' progress; absent: chains are left to the chain coordinator. */
  readonly chains?: { readonly directory: ChainDirectory; readonly progress: StatusLearnerProgress };
  /**
   * Nodes' maintenance as the maintenance service keeps it (its states also reach the passes
   * through its state source): daemons and chains with a member on a draining node that is up are
   * left to the drain (the node's maintenance agent and the chain coordinator) until it is done.
   */
  readonly maintenance?: () => MaintenanceStates | undefined;
  /** Something changed: a pass should follow. */
  readonly onChange: () => void;
  /** A follower failed for good: the term should end (the next holder lists afresh). */
  readonly onError: (error: Error) => void;
}

/** One pass's input. */
export interface ReconcileInput {
  readonly observed: ObservedState;
  readonly desired: DesiredState;
}

export class ReconcileState {
  private readonly daemons: DaemonFollower;
  private readonly records: PrefixFollower;
  private readonly chains: ReconcileChains | undefined;
  private daemonsLoaded = false;
  private recordsLoaded = false;
  private readonly reports = new Map<NodeId, NodeReport>();
  private readonly backoffs = new Map<string, BackoffRecord>();
  private readonly avoid = new Map<NodeId, AvoidRecord>();
  /** Operators' avoid requests, by node. */
  private readonly operatorAvoids = new Map<NodeId, OperatorAvoidRecord>();
  /** Operators' member counts, by daemon. */
  private readonly desiredMembers = new Map<string, number>();
  /** Nodes named by the state but not registered, and since when (wall clock) this holder knows. */
  private readonly downSinceWallMs = new Map<NodeId, number>();
  private readonly unsubscribe: (() => void)[];
  /** Records under `reconcile/` that did not decode (counted, skipped). */
  badRecords = 0;

  constructor(private readonly options: ReconcileStateOptions) {
    const { plane, clock, onChange } = options;
    this.daemons = new DaemonDirectory(plane).follow(() => {
      this.daemonsLoaded = true;
      onChange();
    }, clock);
    this.records = new PrefixFollower(
      plane,
      KEYSPACE_PREFIXES.reconcile,
      {
        onReset: (entries) => {
          this.reports.clear();
          this.backoffs.clear();
          this.avoid.clear();
          this.desiredMembers.clear();
          this.operatorAvoids.clear();
          for (const entry of entries.values()) this.take(entry.key, entry);
          this.recordsLoaded = true;
          onChange();
        },
        onEvent: (event) => {
          this.take(
            event.type === 'put' ? event.entry.key : event.key,
            event.type === 'put' ? event.entry : undefined,
          );
          onChange();
        },
        onError: options.onError,
      },
      { clock },
    );
    this.chains =
      options.chains === undefined
        ? undefined
        : new ReconcileChains({
            ...options.chains,
            clock,
            ...(options.logger === undefined ? {} : { logger: options.logger }),
            onChange,
            onError: options.onError,
          });
    this.unsubscribe = [options.onNodesChange(onChange), options.hub.onSourceChange(onChange)];
  }

  /** Both followers had their first listing: a pass sees the whole state. */
  get loaded(): boolean {
    return this.daemonsLoaded && this.recordsLoaded && (this.chains?.loaded ?? true);
  }

  definitions(): ReadonlyMap<string, StoredDaemon> {
    return this.daemons.daemons;
  }

  stop(): void {
    for (const stop of this.unsubscribe) stop();
    this.daemons.stop();
    this.records.stop();
    this.chains?.stop();
  }

  /** The pass input at `time`, with `pending` (the executor's queued and in-flight actions). */
  input(time: ReconcileTime, pending: readonly PendingAction[]): ReconcileInput {
    const sources = this.options.hub.stateSources();
    const maintenance = new Map<NodeId, MaintenanceState>();
    const requests: MaintenanceRequest[] = [];
    const blobs: ObservedBlob[] = [];
    const blobSpecs: BlobSpec[] = [];
    for (const source of sources) {
      const fromSource = source.maintenance?.();
      if (fromSource !== undefined) {
        for (const [node, state] of fromSource.states) maintenance.set(node, state);
        requests.push(...fromSource.requests);
      }
      const blobState = source.blobs?.();
      if (blobState !== undefined) {
        blobs.push(...blobState.observed);
        blobSpecs.push(...blobState.desired);
      }
    }
    const registered = new Map(this.options.nodes().map((node) => [node.record.id, node]));
    // A draining node that is up is drained by its own agent: what it holds is left out of passes.
    const states = this.options.maintenance?.();
    const leaving = (node: NodeId): boolean => registered.has(node) && states?.leaving(node) === true;
    const definitions = [...this.daemons.daemons.values()]
      .map((stored) => stored.definition)
      .filter((definition) => !definition.members.some((member) => leaving(member.node)));
    const named = new Set<NodeId>();
    for (const definition of definitions) for (const member of definition.members) named.add(member.node);
    for (const blob of blobs) {
      for (const holder of blob.holders) named.add(holder);
      if (blob.hottestReader !== undefined) named.add(blob.hottestReader);
    }
    const chains = withoutLeaving(this.chains?.input(), leaving);
    for (const node of chains?.named ?? []) named.add(node);
    for (const node of maintenance.keys()) named.add(node);
    for (const request of requests) named.add(request.node);

    this.noteDown(registered, named, time.wallMs);
    const daemonsOn = this.daemonsPerNode(definitions);
    const nodes: ObservedNode[] = [];
    for (const id of new Set([...registered.keys(), ...named])) {
      const member = registered.get(id);
      const daemons = daemonsOn.get(id) ?? [];
      const capacity = {
        daemons: capacityOf(member, 'daemons', DEFAULT_NODE_DAEMON_CAPACITY),
        chains: capacityOf(member, 'chains', DEFAULT_MAX_CHAINS_PER_NODE),
      };
      nodes.push({
        id,
        health: member === undefined ? 'down' : member.health === 'alive' ? 'healthy' : 'suspect',
        ...(member === undefined ? { downSinceWallMs: this.downSinceWallMs.get(id) ?? time.wallMs } : {}),
        zone: member?.record.zone || DEFAULT_ZONE,
        capacity,
        load: capacity.daemons === 0 ? 1 : Math.min(1, daemons.length / capacity.daemons),
        maintenance: maintenance.get(id) ?? ACTIVE,
        daemons,
        replicas: chains?.replicasOn.get(id) ?? [],
      });
    }
    const known = new Set(nodes.map((node) => node.id));
    return {
      observed: {
        nodes,
        chains: chains?.chains ?? [],
        blobs,
        rtt: this.rttRows(known),
        avoid: this.avoidEntries(known),
        pending,
      },
      desired: {
        daemons: definitions.map((definition) => ({
          name: definition.name,
          members: this.membersWanted(definition),
        })),
        chains: chains?.specs ?? [],
        blobs: blobSpecs,
        maintenance: requests.filter((request) => known.has(request.node)),
        avoid: [...this.operatorAvoids]
          .filter(([node]) => known.has(node))
          .map(([node, record]) => ({ node, reason: record.reason, untilWallMs: record.untilWallMs })),
      },
    };
  }

  /**
   * The members a daemon should have: an operator's count for a standby or fork group (within
   * what its group allows), else what its definition places.
   */
  private membersWanted(definition: DaemonDefinition): number {
    const asked = this.desiredMembers.get(definition.name);
    if (asked === undefined || definition.group === 'single' || definition.group === 'replica')
      return definition.members.length;
    const [min, max] = memberCountRange(definition.group);
    return Math.min(max, Math.max(min, asked));
  }

  /** Each node's members as the definitions place them, with what the node reports of them. */
  private daemonsPerNode(definitions: readonly DaemonDefinition[]) {
    const perNode = new Map<NodeId, ObservedDaemon[]>();
    for (const definition of definitions) {
      for (const { node, index } of definition.members) {
        const reported = this.reports.get(node)?.daemons.find((member) => member.name === definition.name);
        const backoff = this.backoffs.get(`${definition.name}/${node}`);
        const daemon: ObservedDaemon = {
          name: definition.name,
          // Not reported yet (a node just started, or its report is on its way): taken as running.
          running: reported?.running ?? true,
          crashTimesWallMs: reported?.crashTimesWallMs ?? [],
          ...(backoff === undefined ? {} : { backoffUntilWallMs: backoff.untilWallMs }),
          ...(servesEvents(definition, index) ? { serving: true } : {}),
        };
        const list = perNode.get(node) ?? [];
        list.push(daemon);
        perNode.set(node, list);
      }
    }
    return perNode;
  }

  /** Starts the down time of every named node not registered; forgets the ones back or no longer named. */
  private noteDown(
    registered: ReadonlyMap<NodeId, MemberNode>,
    named: ReadonlySet<NodeId>,
    nowWallMs: number,
  ): void {
    for (const node of named) {
      if (!registered.has(node) && !this.downSinceWallMs.has(node)) this.downSinceWallMs.set(node, nowWallMs);
    }
    for (const node of this.downSinceWallMs.keys()) {
      if (registered.has(node) || !named.has(node)) this.downSinceWallMs.delete(node);
    }
  }

  private rttRows(known: ReadonlySet<NodeId>): RttRow[] {
    const rows: RttRow[] = [];
    for (const [from, row] of this.options.proximity()?.rows ?? []) {
      if (!known.has(from) || !row.fresh) continue;
      for (const [to, peer] of row.peers) {
        if (known.has(to) && peer.rttMs !== undefined) rows.push({ from, to, rttMs: peer.rttMs });
      }
    }
    return rows;
  }

  private avoidEntries(known: ReadonlySet<NodeId>): AvoidEntry[] {
    return [...this.avoid]
      .filter(([node]) => known.has(node))
      .map(([node, record]) => ({ node, reason: record.reason, untilWallMs: record.untilWallMs }));
  }

  private take(key: string, entry: ControlEntry | undefined): void {
    try {
      if (key.startsWith(reconcileReportsPrefix)) {
        const node = nodeIdFromText(key.slice(reconcileReportsPrefix.length));
        if (node === undefined) return;
        if (entry === undefined) this.reports.delete(node);
        else this.reports.set(node, readNodeReport(key, entry.value));
      } else if (key.startsWith(reconcileBackoffPrefix)) {
        const member = key.slice(reconcileBackoffPrefix.length);
        if (entry === undefined) this.backoffs.delete(member);
        else this.backoffs.set(member, readBackoffRecord(key, entry.value));
      } else if (key.startsWith(reconcileOperatorAvoidPrefix)) {
        const node = nodeIdFromText(key.slice(reconcileOperatorAvoidPrefix.length));
        if (node === undefined) return;
        if (entry === undefined) this.operatorAvoids.delete(node);
        else this.operatorAvoids.set(node, readOperatorAvoidRecord(key, entry.value));
      } else if (key.startsWith(reconcileDesiredPrefix)) {
        const daemon = key.slice(reconcileDesiredPrefix.length);
        if (entry === undefined) this.desiredMembers.delete(daemon);
        else this.desiredMembers.set(daemon, readDesiredMembersRecord(key, entry.value).members);
      } else if (key.startsWith(reconcileAvoidPrefix)) {
        const node = nodeIdFromText(key.slice(reconcileAvoidPrefix.length));
        if (node === undefined) return;
        if (entry === undefined) this.avoid.delete(node);
        else this.avoid.set(node, readAvoidRecord(key, entry.value));
      }
    } catch (error) {
      this.badRecords += 1;
      this.options.logger?.warn({ err: error, key }, 'reconcile: skipped a record that does not decode');
    }
  }
}

/** The chains with no member on a draining node (those are the drain's). */
function withoutLeaving(
  chains: ChainsInput | undefined,
  leaving: (node: NodeId) => boolean,
): ChainsInput | undefined {
  if (chains === undefined) return undefined;
  const drained = new Set(
    chains.chains.filter((chain) => chain.members.some(leaving)).map((chain) => chain.name),
  );
  if (drained.size === 0) return chains;
  const replicasOn = new Map<NodeId, ObservedReplica[]>();
  for (const [node, replicas] of chains.replicasOn)
    replicasOn.set(
      node,
      replicas.filter((replica) => !drained.has(replica.chain)),
    );
  return {
    chains: chains.chains.filter((chain) => !drained.has(chain.name)),
    specs: chains.specs.filter((spec) => !drained.has(spec.name)),
    replicasOn,
    named: chains.named,
  };
}

function capacityOf(member: MemberNode | undefined, resource: string, fallback: number): number {
  const amount = member?.record.capacity[resource];
  return amount === undefined ? fallback : amount;
}
