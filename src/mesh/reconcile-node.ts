/**
 * A node's side of the reconcile service, on every node whether or not it holds the reconciler
 * lease: it reports what it runs (`reconcile/reports/<id>`, under its registration lease, so the
 * report goes with the node) and takes up the restarts the reconciler asks of it
 * (`reconcile/restarts/<id>/<daemon>`: its crashed member of the daemon starts again; the request
 * is then deleted). The report is rewritten only when it changed, looked at every
 * NODE_REPORT_INTERVAL_MS.
 */
import {
  type ControlEntry,
  type ControlPlane,
  encodeRecord,
  PrefixFollower,
  reconcileReportKey,
  reconcileRestartsPrefix,
} from '../control/index.js';
import type { Clock, Logger, NodeId, TimerId } from '../lib/index.js';
import type { DaemonMembers } from './daemon-members.js';
import {
  MAX_REPORTED_CRASH_TIMES,
  MAX_REPORTED_DAEMON_MEMBERS,
  NODE_REPORT_INTERVAL_MS,
} from './reconcile-limits.js';
import { type NodeReport, readRestartRecord } from './reconcile-records.js';

export interface ReconcileNodeOptions {
  readonly self: NodeId;
  readonly plane: ControlPlane;
  /** The node's members while its daemons service runs. */
  readonly members: () => DaemonMembers | undefined;
  /** The node's registration lease (undefined while not registered). */
  readonly leaseId: () => number | undefined;
  readonly clock: Clock;
  readonly logger?: Logger;
}

export class ReconcileNode {
  private timer: TimerId | undefined;
  private written: { leaseId: number; daemons: string } | undefined;
  private writing = false;
  private readonly restarts: PrefixFollower;
  private stopped = false;
  /** Restarts this node took up. */
  restarted = 0;

  constructor(private readonly options: ReconcileNodeOptions) {
    const prefix = reconcileRestartsPrefix(options.self);
    const take = (entry: ControlEntry): void => void this.restart(entry.key.slice(prefix.length), entry);
    this.restarts = new PrefixFollower(
      options.plane,
      prefix,
      {
        onReset: (entries) => {
          for (const entry of entries.values()) take(entry);
        },
        onEvent: (event) => {
          if (event.type === 'put') take(event.entry);
        },
        onError: (error) => options.logger?.warn({ err: error }, 'reconcile: following restarts failed'),
      },
      { clock: options.clock },
    );
    this.schedule();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer !== undefined) this.options.clock.clearTimer(this.timer);
    this.restarts.stop();
  }

  private async restart(daemon: string, entry: ControlEntry): Promise<void> {
    const { logger, plane } = this.options;
    try {
      const request = readRestartRecord(entry.key, entry.value);
      if (this.options.members()?.restart(daemon, request.crashes) === true) {
        this.restarted += 1;
        logger?.info({ daemon, action: request.actionId }, 'reconcile: restarted a crashed member as asked');
      }
    } catch (error) {
      logger?.warn(
        { err: error, key: entry.key },
        'reconcile: dropped a restart request that does not decode',
      );
    }
    // Only a delete of this very request: a newer one put meanwhile stays for the next event.
    await plane
      .txn({
        compare: [{ key: entry.key, target: 'modRevision', operator: '=', operand: entry.modRevision }],
        success: [{ type: 'delete', key: entry.key }],
        failure: [],
      })
      .catch(() => undefined);
    this.report();
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = this.options.clock.setTimer(NODE_REPORT_INTERVAL_MS, () => {
      this.report();
      this.schedule();
    });
  }

  /** Writes the report when it changed (or the lease did); one write at a time. */
  private report(): void {
    const { plane, self, clock, logger } = this.options;
    const leaseId = this.options.leaseId();
    const members = this.options.members();
    if (this.writing || this.stopped || leaseId === undefined || members === undefined) return;
    const daemons = members
      .report()
      .slice(0, MAX_REPORTED_DAEMON_MEMBERS)
      .map((member) => ({
        ...member,
        crashTimesWallMs: member.crashTimesWallMs.slice(-MAX_REPORTED_CRASH_TIMES),
      }));
    const text = JSON.stringify(daemons);
    if (this.written?.leaseId === leaseId && this.written.daemons === text) return;
    const key = reconcileReportKey(self);
    const report: NodeReport = { daemons, writtenAtWallMs: clock.wallMs() };
    this.writing = true;
    plane
      .put(key, encodeRecord(key, report), { lease: leaseId })
      .then(
        () => {
          this.written = { leaseId, daemons: text };
        },
        (error: unknown) =>
          logger?.debug({ err: error }, 'reconcile: writing the node report failed; retrying'),
      )
      .finally(() => {
        this.writing = false;
      });
  }
}
