/**
 * What the Deck reads (docs/ADMIN_API.md): each admin document built from the node's running
 * parts, and the snapshot that `/deck/events` sends every second. Each part is read on its own:
 * one that fails (no control plane quorum, say) leaves its field out and names the problem.
 */
import { reconcileAvoidPrefix, reconcileBackoffPrefix } from '../control/index.js';
import { type NodeId, nodeIdFromText } from '../lib/index.js';
import {
  ADMIN_SCHEMA_VERSION,
  type AvoidView,
  type BackoffView,
  type ChainsDocument,
  type ConsensusDocument,
  type DaemonsDocument,
  type DaemonView,
  type DeckSnapshot,
  type MaintenanceDocument,
  type NodesDocument,
  type ReconcileDocument,
  type RttDocument,
  versioned,
} from './admin-documents.js';
import { actionsFromAudit } from './audit-actions.js';
import { AuditReader } from './audit-reader.js';
import { DeckPeerIndexes } from './deck-peer-indexes.js';
import { type NodeParts, part } from './node-parts.js';
import { rttReport } from './proximity-service.js';
import { readAvoidRecord, readBackoffRecord } from './reconcile-records.js';

/** Bounds on what one snapshot lists (the counts of the rest are given). */
export const MAX_DECK_DAEMONS = 64;
export const MAX_DECK_CHAINS = 64;
export const MAX_DECK_ACTIONS = 40;
export const MAX_DECK_AUDIT_RECORDS = 20;
/** How long one status call for the Deck may take (one slow daemon or chain is left out). */
export const DECK_CALL_TIMEOUT_MS = 2_000;
/** How long the leases' time left may take before the Deck shows the membership view without it. */
export const DECK_LEASE_QUERY_TIMEOUT_MS = 1_000;
/** How long one part of a snapshot may take (the snapshot goes out without it). */
export const DECK_PART_TIMEOUT_MS = 3_000;

/** `promise`, or a rejection naming `what` once `timeoutMs` passed. */
function withDeadline<T>(promise: Promise<T>, timeoutMs: number, what: string): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`${what} did not answer within ${timeoutMs} ms`)),
      timeoutMs,
    );
    promise.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(error);
      },
    );
  });
}

interface InboundSample {
  readonly through: number;
  readonly atMs: number;
}

export class DeckSource {
  private readonly inbound = new Map<string, InboundSample>();
  private readonly peerIndexes = new DeckPeerIndexes();

  constructor(
    private readonly parts: NodeParts,
    private readonly role: 'voter' | 'worker',
  ) {}

  private get id(): NodeId {
    return part(this.parts, 'identity').id;
  }

  /**
   * The membership report (each lease asked for its time left); when the control plane is slow to
   * answer (an election), the view as this node holds it, with each node's health from its links.
   */
  async nodes(): Promise<NodesDocument> {
    const membership = this.parts.membership;
    if (membership === undefined) return versioned({ reporter: this.id, nodes: [] });
    const fromView = (): NodesDocument =>
      versioned({
        reporter: this.id,
        nodes: membership.view
          .nodes()
          .map((node) => ({ ...node.record, health: node.health, leaseId: node.leaseId })),
      });
    return withDeadline(membership.report(), DECK_LEASE_QUERY_TIMEOUT_MS, 'the membership report').then(
      (report) => versioned(report),
      fromView,
    );
  }

  rtt(): RttDocument {
    return versioned(rttReport(this.id, this.parts.proximity?.follower.matrix()));
  }

  maintenance(): MaintenanceDocument {
    const view = this.parts.maintenance;
    const known = this.parts.membership?.view.nodes().map((node) => node.record.id) ?? [];
    return versioned({
      nodes: [...known]
        .sort((a, b) => a - b)
        .map((node) => ({ node, state: view?.state(node) ?? { phase: 'Active' } })),
    });
  }

  consensus(): ConsensusDocument | undefined {
    const raft = this.parts.raft;
    if (raft === undefined) return undefined;
    const status = raft.status();
    const member = (id: NodeId, voter: boolean) => {
      const progress = status.progress?.get(id);
      const own = id === status.id ? { commit: status.commit, applied: raft.applied } : {};
      if (progress === undefined) return { id, voter, ...own };
      return {
        id,
        voter,
        match: progress.match,
        lag: status.commit - progress.match,
        state: progress.state,
        ...own,
      };
    };
    return versioned({
      reporter: status.id,
      role: status.role,
      term: status.term,
      leaderId: status.leaderId,
      commitIndex: status.commit,
      appliedIndex: raft.applied,
      members: [
        ...status.config.voters.map((id) => member(id, true)),
        ...status.config.learners.map((id) => member(id, false)),
      ],
      elections: this.parts.leaderChanges?.list() ?? [],
    });
  }

  /**
   * `consensus()` with every other voter's own commit and applied index as its admin port
   * answered within the last few seconds (`DeckPeerIndexes`: only the leader knows the others'
   * match, and only each node its own applied index). A voter that does not answer in time keeps
   * what this node knows of it.
   */
  async consensusOfVoters(nowMs: number): Promise<ConsensusDocument | undefined> {
    const local = this.consensus();
    if (local === undefined) return undefined;
    const admins = new Map(
      (this.parts.membership?.view.nodes() ?? []).map((node) => [
        node.record.id,
        node.record.addresses.admin,
      ]),
    );
    this.peerIndexes.keepOnly(new Set(local.members.map((member) => member.id)));
    const members = await Promise.all(
      local.members.map(async (member) => {
        const admin = admins.get(member.id);
        if (member.id === local.reporter || admin === undefined) return member;
        const indexes = await this.peerIndexes.indexesOf(member.id, admin, nowMs);
        return indexes === undefined ? member : { ...member, ...indexes };
      }),
    );
    return { ...local, members };
  }

  async daemons(nowMs: number): Promise<DaemonsDocument> {
    const backend = this.parts.daemons;
    if (backend === undefined) return versioned({ daemons: [], omitted: 0 });
    const definitions = [...(await backend.list())].sort((a, b) => (a.name < b.name ? -1 : 1));
    const listed = definitions.slice(0, MAX_DECK_DAEMONS);
    const statuses = await Promise.all(
      listed.map((definition) =>
        withDeadline(backend.status(definition.name), DECK_CALL_TIMEOUT_MS, 'status').catch(() => undefined),
      ),
    );
    const daemons: DaemonView[] = [];
    const seen = new Set<string>();
    for (const status of statuses) {
      if (status === undefined) continue;
      seen.add(status.name);
      const before = this.inbound.get(status.name);
      this.inbound.set(status.name, { through: status.inboundThrough, atMs: nowMs });
      const elapsedMs = before === undefined ? 0 : nowMs - before.atMs;
      daemons.push(
        elapsedMs > 0 && before !== undefined
          ? {
              ...status,
              eventsPerSecond: Math.max(0, ((status.inboundThrough - before.through) * 1000) / elapsedMs),
            }
          : status,
      );
    }
    for (const name of this.inbound.keys()) if (!seen.has(name)) this.inbound.delete(name);
    return versioned({ daemons, omitted: definitions.length - listed.length });
  }

  async chains(): Promise<ChainsDocument> {
    const backend = this.parts.chains;
    if (backend === undefined) return versioned({ chains: [], omitted: 0 });
    const summaries = [...(await backend.list())].sort((a, b) => (a.name < b.name ? -1 : 1));
    const listed = summaries.slice(0, MAX_DECK_CHAINS);
    const statuses = await Promise.all(
      listed.map((summary) =>
        withDeadline(backend.status(summary.name), DECK_CALL_TIMEOUT_MS, 'status').catch(() => undefined),
      ),
    );
    return versioned({
      chains: statuses.filter((status) => status !== undefined),
      omitted: summaries.length - listed.length,
    });
  }

  async reconcile(): Promise<ReconcileDocument> {
    const plane = part(this.parts, 'controlPlane');
    const [{ records }, backoffs, avoid] = await Promise.all([
      new AuditReader(plane).list(),
      plane.range(reconcileBackoffPrefix),
      plane.range(reconcileAvoidPrefix),
    ]);
    const actions = actionsFromAudit(records);
    const lastTerm = records.findLast((record) => record.entry.type === 'term');
    return versioned({
      reconcilerNode: lastTerm?.node ?? 0,
      actions: { ...actions, actions: actions.actions.slice(-MAX_DECK_ACTIONS) },
      audit: records.slice(-MAX_DECK_AUDIT_RECORDS),
      backoffs: backoffs.entries.flatMap((entry): BackoffView[] => {
        const member = entry.key.slice(
          entry.key.indexOf(reconcileBackoffPrefix) + reconcileBackoffPrefix.length,
        );
        const cut = member.lastIndexOf('/');
        const node = nodeIdFromText(member.slice(cut + 1));
        if (cut < 0 || node === undefined) return [];
        return [
          {
            daemon: member.slice(0, cut),
            node,
            untilWallMs: readBackoffRecord(entry.key, entry.value).untilWallMs,
          },
        ];
      }),
      avoid: avoid.entries.flatMap((entry): AvoidView[] => {
        const node = nodeIdFromText(
          entry.key.slice(entry.key.indexOf(reconcileAvoidPrefix) + reconcileAvoidPrefix.length),
        );
        if (node === undefined) return [];
        const record = readAvoidRecord(entry.key, entry.value);
        return [{ node, reason: record.reason, untilWallMs: record.untilWallMs }];
      }),
    });
  }

  /** Every part at once; a part that fails is left out and named in `problems`. */
  async snapshot(nowMs: number, wallMs: number): Promise<DeckSnapshot> {
    const problems: string[] = [];
    const attempt = async <T>(name: string, read: () => T | Promise<T>): Promise<T | undefined> => {
      try {
        return await withDeadline(Promise.resolve().then(read), DECK_PART_TIMEOUT_MS, name);
      } catch (error) {
        problems.push(`${name}: ${error instanceof Error ? error.message : String(error)}`);
        return undefined;
      }
    };
    const [nodes, rtt, maintenance, consensus, daemons, chains, reconcile] = await Promise.all([
      attempt('nodes', () => this.nodes()),
      attempt('rtt', () => this.rtt()),
      attempt('maintenance', () => this.maintenance()),
      attempt('consensus', () => this.consensusOfVoters(nowMs)),
      attempt('daemons', () => this.daemons(nowMs)),
      attempt('chains', () => this.chains()),
      attempt('reconcile', () => this.reconcile()),
    ]);
    return {
      schemaVersion: ADMIN_SCHEMA_VERSION,
      reporter: this.id,
      reporterRole: this.role,
      atWallMs: wallMs,
      ...(nodes === undefined ? {} : { nodes }),
      ...(rtt === undefined ? {} : { rtt }),
      ...(maintenance === undefined ? {} : { maintenance }),
      ...(consensus === undefined ? {} : { consensus }),
      ...(daemons === undefined ? {} : { daemons }),
      ...(chains === undefined ? {} : { chains }),
      ...(reconcile === undefined ? {} : { reconcile }),
      problems,
    };
  }
}
