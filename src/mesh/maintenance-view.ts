/**
 * A node's view of every node's maintenance record (`maintenance/`, list and watch): what
 * placement asks (does a node take new daemons and replicas? is it draining? did an operator ask
 * that it be avoided, `reconcile/operator-avoid/`?), what the drain
 * agent and the reconcile service read, and a change signal. A record that does not decode is
 * left out (its node counts as Active) and logged.
 */
import {
  type ControlEntry,
  type ControlPlane,
  KEYSPACE_PREFIXES,
  nodeIdOfKey,
  PrefixFollower,
  reconcileOperatorAvoidPrefix,
} from '../control/index.js';
import { type Clock, type Logger, type NodeId, nodeIdFromText } from '../lib/index.js';
import {
  ACTIVE,
  freezesPlacement,
  isDraining,
  type MaintenanceRequest,
  type MaintenanceState,
} from '../reconcile/index.js';
import { type MaintenanceRecord, maintenanceRequestOf, storedMaintenanceOf } from './maintenance-record.js';
import { readOperatorAvoidRecord } from './reconcile-records.js';

/** What placement and the drain need to know of nodes' maintenance. */
export interface MaintenanceStates {
  state(node: NodeId): MaintenanceState;
  /** Takes new daemon members and chain replicas: Active (not in Recovery), not avoided. */
  placeable(node: NodeId): boolean;
  /** Draining (EnteringMaintenance or Maintenance): what it holds moves away. */
  leaving(node: NodeId): boolean;
}

export class MaintenanceView implements MaintenanceStates {
  private readonly records = new Map<NodeId, MaintenanceRecord>();
  private readonly listeners = new Set<() => void>();
  private readonly follower: PrefixFollower;
  /** Operators' avoid requests (`reconcile/operator-avoid/`): node -> until (wall clock). */
  private readonly avoided = new Map<NodeId, number>();
  private readonly avoidFollower: PrefixFollower;

  constructor(
    plane: ControlPlane,
    private readonly clock: Clock,
    private readonly logger?: Logger,
  ) {
    this.avoidFollower = this.follow(plane, reconcileOperatorAvoidPrefix, "operators' avoid requests", {
      clear: () => this.avoided.clear(),
      take: (key, entry) => this.takeAvoid(key, entry),
    });
    this.follower = this.follow(plane, KEYSPACE_PREFIXES.maintenance, 'the records', {
      clear: () => this.records.clear(),
      take: (key, entry) => this.take(key, entry),
    });
  }

  /** Follows `prefix` into one of the view's maps (`clear` on a new listing, `take` per entry). */
  private follow(
    plane: ControlPlane,
    prefix: string,
    what: string,
    into: { clear(): void; take(key: string, entry: ControlEntry | undefined): void },
  ): PrefixFollower {
    return new PrefixFollower(
      plane,
      prefix,
      {
        onReset: (entries) => {
          into.clear();
          for (const entry of entries.values()) into.take(entry.key, entry);
          this.changed();
        },
        onEvent: (event) => {
          into.take(
            event.type === 'put' ? event.entry.key : event.key,
            event.type === 'put' ? event.entry : undefined,
          );
          this.changed();
        },
        onError: (error) => this.logger?.error({ err: error }, `maintenance: following ${what} failed`),
      },
      { clock: this.clock },
    );
  }

  record(node: NodeId): MaintenanceRecord | undefined {
    return this.records.get(node);
  }

  all(): readonly MaintenanceRecord[] {
    return [...this.records.values()].sort((a, b) => a.node - b.node);
  }

  state(node: NodeId): MaintenanceState {
    return this.records.get(node)?.state ?? ACTIVE;
  }

  /**
   * Active (not in Recovery) and not avoided by an operator (`meshos node avoid`). The reconciler's
   * own marks (a slow peer) steer only its own placements: on a loaded mesh every node may look
   * slow, and a deploy should not fail for it.
   */
  placeable(node: NodeId): boolean {
    return !freezesPlacement(this.state(node)) && !this.isAvoided(node);
  }

  isAvoided(node: NodeId): boolean {
    return (this.avoided.get(node) ?? 0) > this.clock.wallMs();
  }

  leaving(node: NodeId): boolean {
    return isDraining(this.state(node));
  }

  /** Every node's state that is not Active (reconcile's observed maintenance states). */
  states(): ReadonlyMap<NodeId, MaintenanceState> {
    return new Map(this.all().map((record) => [record.node, record.state]));
  }

  /** The operators' requests, as reconcile's desired state holds them. */
  requests(): MaintenanceRequest[] {
    return this.all().flatMap((record) => {
      const request = maintenanceRequestOf(record);
      return request === undefined ? [] : [request];
    });
  }

  /** Calls `listener` after every change; returns an unsubscribe. */
  onChange(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  stop(): void {
    this.follower.stop();
    this.avoidFollower.stop();
    this.listeners.clear();
  }

  private take(key: string, entry: ControlEntry | undefined): void {
    const node = nodeIdOfKey(key);
    if (node === undefined) return;
    this.records.delete(node);
    if (entry === undefined) return;
    try {
      const { record } = storedMaintenanceOf(entry);
      if (record.node === node) this.records.set(node, record);
    } catch (error) {
      this.logger?.warn({ err: error, key }, 'maintenance: a record that does not decode is left out');
    }
  }

  private takeAvoid(key: string, entry: ControlEntry | undefined): void {
    const node = nodeIdFromText(key.slice(reconcileOperatorAvoidPrefix.length));
    if (node === undefined) return;
    this.avoided.delete(node);
    if (entry === undefined) return;
    try {
      this.avoided.set(node, readOperatorAvoidRecord(key, entry.value).untilWallMs);
    } catch (error) {
      this.logger?.warn({ err: error, key }, 'maintenance: an avoid entry that does not decode is left out');
    }
  }

  private changed(): void {
    for (const listener of [...this.listeners]) listener();
  }
}
