/**
 * `meshos demo failover`: against the running local cluster, kills (SIGKILL) the node of the
 * counter group's active member while events flow, measures the failover gap (from the kill to
 * the first event the promoted standby acknowledged), checks that the counter counted every
 * acknowledged event exactly once, and waits until the local cluster has started the node again
 * and it rejoined (its member synced as a standby).
 */
import * as os from 'node:os';
import { performance } from 'node:perf_hooks';
import type { MeshClient } from '../../client/index.js';
import { type DaemonStatus, decodeCounterState } from '../../daemons/index.js';
import { isMeshError, MeshError } from '../../lib/index.js';
import { fetchStatus } from '../admin-json.js';
import {
  type LocalClusterRecord,
  processIsRunning,
  readLocalClusterRecord,
} from '../local-cluster-record.js';
import { type Acknowledgement, FailoverSender } from './failover-sender.js';

/** The counter key the demo's own events carry (the load uses others), so its count is the demo's. */
export const DEMO_FAILOVER_KEY = 'failover-check';
/** Events acknowledged by the active before the kill. */
const EVENTS_BEFORE_KILL = 10;
/** Events acknowledged by the promoted standby before the demo stops sending. */
const EVENTS_AFTER_FAILOVER = 10;
/** For the group to be ready (every member healthy and synced) before anything is killed. */
const READY_TIMEOUT_MS = 60_000;
/** For the promoted standby's first acknowledgement after the kill. */
const FAILOVER_TIMEOUT_MS = 60_000;
/** For the killed node to be started again and its member to be a synced standby again. */
const REJOIN_TIMEOUT_MS = 120_000;
const POLL_INTERVAL_MS = 100;
const CALL_TIMEOUT_MS = 5_000;

export class DemoFailoverError extends MeshError {
  constructor(reason: string) {
    super('DEMO_FAILOVER_FAILED', `the failover demo cannot go on: ${reason}`, { details: { reason } });
  }
}

export interface FailoverReport {
  readonly daemon: string;
  readonly killedNode: number;
  readonly killedPid: number;
  readonly epochBefore: number;
  /** The epoch, member and node of the first acknowledgement after the kill from a newer epoch. */
  readonly epochAfter: number;
  readonly promotedMember: number;
  readonly promotedNode: number;
  /** From the kill to the promoted standby's first acknowledged event. */
  readonly gapMs: number;
  readonly acknowledged: number;
  /** Events sent whose answer never came (may or may not be counted). */
  readonly unacknowledged: number;
  readonly countedBefore: number;
  readonly countedAfter: number;
  /** Acknowledged events the counter does not count. */
  readonly lost: number;
  /** Counted events beyond those sent. */
  readonly duplicated: number;
  readonly rejoined: boolean;
  /** From the kill until the node was back and its member synced; absent when it did not rejoin. */
  readonly rejoinMs?: number;
  readonly restartedPid?: number;
  readonly loadAverage: number;
  readonly ok: boolean;
}

export interface FailoverOptions {
  readonly root: string;
  readonly endpoints: readonly string[];
  readonly daemon: string;
}

async function pollUntil<T>(
  what: string,
  timeoutMs: number,
  check: () => Promise<T | undefined>,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const found = await check().catch((error: unknown) => {
      if (error instanceof DemoFailoverError) throw error;
      return undefined;
    });
    if (found !== undefined) return found;
    if (Date.now() >= deadline) throw new DemoFailoverError(`${what} within ${timeoutMs / 1000} s`);
    await new Promise((resolve) => setTimeout(resolve, POLL_INTERVAL_MS));
  }
}

/** The group's status once it has an active and every member is healthy and synced. */
async function readyStatus(client: MeshClient, daemon: string): Promise<DaemonStatus> {
  return pollUntil(`'${daemon}' has no active with healthy, synced standbys`, READY_TIMEOUT_MS, async () => {
    const status = await client.daemons
      .status(daemon, { timeoutMs: CALL_TIMEOUT_MS })
      .catch((error: unknown) => {
        if (!isMeshError(error, 'DAEMON_NOT_FOUND')) throw error;
        throw new DemoFailoverError(
          `no daemon '${daemon}' is deployed (was the cluster started with --no-demo?)`,
        );
      });
    if (status.group === 'replica')
      throw new DemoFailoverError(`'${daemon}' is a replica group: it has no active`);
    const ready =
      status.members.some((member) => member.role === 'active') &&
      status.members.length > 1 &&
      status.members.every((member) => member.healthy && member.syncedThrough >= 0);
    return ready ? status : undefined;
  });
}

/** How many events of `DEMO_FAILOVER_KEY` the counter (its active) has counted. */
async function countedEvents(client: MeshClient, daemon: string): Promise<number> {
  const result = await client.daemons.state(daemon, { timeoutMs: CALL_TIMEOUT_MS });
  return decodeCounterState(result.state).keys?.[DEMO_FAILOVER_KEY] ?? 0;
}

function livePid(record: LocalClusterRecord, node: number): number {
  const pid = record.nodes.find((entry) => entry.id === node)?.pid ?? 0;
  return processIsRunning(pid) ? pid : 0;
}

/** Waits until the killed node runs again (a new pid), answers on its admin port, and its member is synced. */
async function waitForRejoin(
  options: FailoverOptions,
  client: MeshClient,
  node: number,
  killedPid: number,
): Promise<number> {
  return pollUntil(`n${node} did not rejoin`, REJOIN_TIMEOUT_MS, async () => {
    const record = readLocalClusterRecord(options.root);
    const pid = livePid(record, node);
    const admin = record.nodes.find((entry) => entry.id === node)?.admin;
    if (pid === 0 || pid === killedPid || admin === undefined) return undefined;
    if (Number((await fetchStatus(admin))?.leaderId ?? 0) === 0) return undefined;
    const status = await client.daemons.status(options.daemon, { timeoutMs: CALL_TIMEOUT_MS });
    const member = status.members.find((entry) => entry.node === node);
    return member?.healthy === true && member.syncedThrough >= 0 ? pid : undefined;
  });
}

export async function runFailoverDemo(
  client: MeshClient,
  options: FailoverOptions,
  progress: (line: string) => void,
): Promise<FailoverReport> {
  const record = readLocalClusterRecord(options.root);
  if (!processIsRunning(record.launcherPid)) {
    throw new DemoFailoverError(
      `the local cluster's launcher (pid ${record.launcherPid}) is not running, so no one would start the killed node again`,
    );
  }
  const before = await readyStatus(client, options.daemon);
  const active = before.members.find((member) => member.role === 'active');
  if (active === undefined) throw new DemoFailoverError(`'${options.daemon}' has no active`);
  const pid = livePid(record, active.node);
  if (pid === 0)
    throw new DemoFailoverError(`the local cluster's record knows no running process of n${active.node}`);
  const standbys = before.members.filter((member) => member !== active).map((member) => `n${member.node}`);
  progress(
    `${options.daemon}: active member ${active.index} on n${active.node} at epoch ${before.epoch}; standbys on ${standbys.join(', ')}`,
  );
  const countedBefore = await countedEvents(client, options.daemon);
  const deadlineMs = Date.now() + READY_TIMEOUT_MS + FAILOVER_TIMEOUT_MS;
  const sender = new FailoverSender(
    client,
    options.daemon,
    DEMO_FAILOVER_KEY,
    `demo-failover.${process.pid}.${Date.now()}`,
    deadlineMs,
  );
  sender.start();
  try {
    if (!(await sender.waitFor((acks) => acks.length >= EVENTS_BEFORE_KILL, Date.now() + READY_TIMEOUT_MS))) {
      throw new DemoFailoverError(
        `the active acknowledged no events before the kill (${sender.lastFailure})`,
      );
    }
    process.kill(pid, 'SIGKILL');
    const killedAtMs = performance.now();
    progress(
      `killed n${active.node} (pid ${pid}) with SIGKILL after ${sender.acknowledgements.length} acknowledged events`,
    );
    const promoted = (acks: readonly Acknowledgement[]) =>
      acks.find((ack) => ack.atMs > killedAtMs && ack.epoch > before.epoch);
    const failedOver = await sender.waitFor(
      (acks) => promoted(acks) !== undefined,
      Date.now() + FAILOVER_TIMEOUT_MS,
    );
    const first = promoted(sender.acknowledgements);
    if (!failedOver || first === undefined) {
      throw new DemoFailoverError(`no standby acknowledged an event after the kill (${sender.lastFailure})`);
    }
    const promotedNode = before.members.find((member) => member.index === first.memberIndex)?.node ?? 0;
    const gapMs = Math.round(first.atMs - killedAtMs);
    progress(
      `failover: member ${first.memberIndex} on n${promotedNode} is the active at epoch ${first.epoch}; gap ${gapMs} ms from the kill to its first acknowledged event`,
    );
    const target = sender.acknowledgements.indexOf(first) + EVENTS_AFTER_FAILOVER;
    await sender.waitFor((acks) => acks.length > target, Date.now() + FAILOVER_TIMEOUT_MS);
    await sender.stop();
    const countedAfter = await countedEvents(client, options.daemon);
    const acknowledged = sender.acknowledgements.length;
    const counted = countedAfter - countedBefore;
    const lost = Math.max(0, acknowledged - counted);
    const duplicated = Math.max(0, counted - acknowledged - sender.unacknowledged);
    progress(`waiting for n${active.node} to be started again and rejoin`);
    const restartedPid = await waitForRejoin(options, client, active.node, pid).catch(() => undefined);
    const rejoinMs = restartedPid === undefined ? undefined : Math.round(performance.now() - killedAtMs);
    return {
      daemon: options.daemon,
      killedNode: active.node,
      killedPid: pid,
      epochBefore: before.epoch,
      epochAfter: first.epoch,
      promotedMember: first.memberIndex,
      promotedNode,
      gapMs,
      acknowledged,
      unacknowledged: sender.unacknowledged,
      countedBefore,
      countedAfter,
      lost,
      duplicated,
      rejoined: restartedPid !== undefined,
      ...(rejoinMs === undefined ? {} : { rejoinMs }),
      ...(restartedPid === undefined ? {} : { restartedPid }),
      loadAverage: Math.round((os.loadavg()[0] ?? 0) * 100) / 100,
      ok: lost === 0 && duplicated === 0 && restartedPid !== undefined,
    };
  } finally {
    await sender.stop();
  }
}

export function failoverReportLines(report: FailoverReport): string[] {
  const verdict =
    report.lost === 0 && report.duplicated === 0
      ? 'nothing lost, nothing counted twice'
      : `${report.lost} LOST, ${report.duplicated} COUNTED TWICE`;
  return [
    `events: ${report.acknowledged} acknowledged, ${report.countedAfter - report.countedBefore} counted ` +
      `(key ${DEMO_FAILOVER_KEY}: ${report.countedBefore} -> ${report.countedAfter})` +
      (report.unacknowledged > 0 ? `, ${report.unacknowledged} never acknowledged` : '') +
      `: ${verdict}`,
    report.rejoined
      ? `n${report.killedNode} is back (pid ${report.restartedPid}) and rejoined ${((report.rejoinMs ?? 0) / 1000).toFixed(1)} s after the kill`
      : `n${report.killedNode} did NOT rejoin within ${REJOIN_TIMEOUT_MS / 1000} s`,
    `failover gap ${report.gapMs} ms (load average ${report.loadAverage}); ${report.ok ? 'PASS' : 'FAIL'}`,
  ];
}
