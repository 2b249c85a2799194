/**
 * `AvoidClient`: what `meshos node avoid` does, for programs (docs/RECONCILE.md "Operator avoid").
 * An operator's request is `reconcile/operator-avoid/<node>` under a lease of its TTL, so it
 * expires by itself; the reconciler marks the node avoided (`MarkAvoid`, recorded in the audit)
 * until the request's time, and placement skips it. It talks to the control plane (the voters'
 * client ports, or the mesh's etcd) directly, as `MaintenanceClient` does.
 */
import {
  type ControlPlane,
  encodeRecord,
  MIN_CONTROL_LEASE_TTL_SECONDS,
  reconcileAvoidKey,
  reconcileAvoidPrefix,
  reconcileOperatorAvoidKey,
  reconcileOperatorAvoidPrefix,
} from '../control/index.js';
import { type Clock, MeshError, type NodeId, nodeIdFromText, SystemClock } from '../lib/index.js';
import { MAX_AVOID_TTL_MS } from '../reconcile/index.js';
import { type MaintenanceClientOptions, openOperatorPlane } from './maintenance-client.js';
import { type OperatorAvoidRecord, readAvoidRecord, readOperatorAvoidRecord } from './reconcile-records.js';

/** The longest reason an operator may give (it travels in every MarkAvoid and audit record). */
export const MAX_AVOID_REASON_CHARACTERS = 200;

/** `meshos node avoid list --json` prints a list of these. */
export interface AvoidListEntry {
  readonly node: NodeId;
  /** `operator` for an operator's request, `reconciler` for an entry the reconciler marked. */
  readonly source: 'operator' | 'reconciler';
  readonly reason: string;
  readonly untilWallMs: number;
  /** For an operator's request: whether the reconciler marked it (placement skips the node). */
  readonly marked?: boolean;
}

/** A bad `node avoid` request: a TTL out of range or a reason that is empty or too long. */
export class AvoidRequestInvalidError extends MeshError {
  constructor(reason: string) {
    super('AVOID_REQUEST_INVALID', `node avoid: ${reason}`);
  }
}

export type AvoidClientOptions = MaintenanceClientOptions;

export class AvoidClient {
  constructor(
    private readonly plane: ControlPlane,
    private readonly clock: Clock = new SystemClock(),
    private readonly ownsPlane = false,
  ) {}

  static async connect(options: AvoidClientOptions): Promise<AvoidClient> {
    const { plane, clock } = await openOperatorPlane(options);
    return new AvoidClient(plane, clock, true);
  }

  /** Asks that placement skip `node` for `ttlMs`; answers the request as stored. */
  async avoid(node: NodeId, ttlMs: number, reason: string): Promise<OperatorAvoidRecord> {
    if (!Number.isSafeInteger(ttlMs) || ttlMs < 1_000 || ttlMs > MAX_AVOID_TTL_MS)
      throw new AvoidRequestInvalidError(
        `the TTL must be 1 s to ${MAX_AVOID_TTL_MS / 3_600_000} h, got ${ttlMs} ms`,
      );
    if (reason.trim().length === 0 || reason.length > MAX_AVOID_REASON_CHARACTERS)
      throw new AvoidRequestInvalidError(`the reason must be 1 to ${MAX_AVOID_REASON_CHARACTERS} characters`);
    const now = this.clock.wallMs();
    const record: OperatorAvoidRecord = { reason, requestedAtWallMs: now, untilWallMs: now + ttlMs };
    const key = reconcileOperatorAvoidKey(node);
    const lease = await this.plane.grantLease(
      Math.max(MIN_CONTROL_LEASE_TTL_SECONDS, Math.ceil(ttlMs / 1_000)),
    );
    await this.plane.put(key, encodeRecord(key, record), { lease: lease.id });
    return record;
  }

  /** Every node avoided now or asked to be: operators' requests and the reconciler's entries. */
  async list(): Promise<AvoidListEntry[]> {
    const [requests, marked] = await Promise.all([
      this.plane.range(reconcileOperatorAvoidPrefix),
      this.plane.range(reconcileAvoidPrefix),
    ]);
    const now = this.clock.wallMs();
    const entries = new Map<NodeId, { until: number; reason: string }>();
    for (const entry of marked.entries) {
      const node = nodeIdFromText(entry.key.slice(reconcileAvoidPrefix.length));
      const record = readAvoidRecord(entry.key, entry.value);
      if (node !== undefined && record.untilWallMs > now)
        entries.set(node, { until: record.untilWallMs, reason: record.reason });
    }
    const list: AvoidListEntry[] = [];
    const operators = new Set<NodeId>();
    for (const entry of requests.entries) {
      const node = nodeIdFromText(entry.key.slice(reconcileOperatorAvoidPrefix.length));
      const record = readOperatorAvoidRecord(entry.key, entry.value);
      if (node === undefined || record.untilWallMs <= now) continue;
      operators.add(node);
      const markedUntil = entries.get(node)?.until ?? 0;
      list.push({
        node,
        source: 'operator',
        reason: record.reason,
        untilWallMs: record.untilWallMs,
        marked: markedUntil > now,
      });
    }
    for (const [node, entry] of entries)
      if (!operators.has(node))
        list.push({ node, source: 'reconciler', reason: entry.reason, untilWallMs: entry.until });
    return list.sort((a, b) => a.node - b.node);
  }

  /** Ends `node`'s avoidance now: the operator's request and the entry marked for it. */
  async clear(node: NodeId): Promise<void> {
    await this.plane.delete(reconcileOperatorAvoidKey(node));
    await this.plane.delete(reconcileAvoidKey(node));
  }

  async close(): Promise<void> {
    if (this.ownsPlane) await this.plane.close();
  }
}
