/**
 * `meshos node drain` and `meshos node maintenance` on real processes (the built `meshos start`
 * voters on loopback), while 8 senders send events (each its own client id and sequence; history
 * per HISTORY_FORMAT in artifacts/cluster/):
 *
 * - 4 nodes, a `journal` standby group of 2: draining the active's node moves the active to the
 *   standby, re-homes the node's member and chain replicas; the node ends in Maintenance before
 *   its deadline with nothing left (status says so), a daemon deployed meanwhile gets no member
 *   there, every acknowledged event is in both journals once, in each sender's order; exit brings
 *   the node back through Recovery (for the ramp-up asked) to Active.
 * - 3 nodes, a group of 3: a drain cannot finish (no node is free for the node's member or chain
 *   replicas): DrainFailed with the reason naming them, the node keeps its member, no event is
 *   lost; entering again is refused until exit; bad input gets its typed error.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { MaintenanceStatus } from '../../src/mesh/index.js';
import { MaintenanceClient } from '../../src/mesh/index.js';
import type { MaintenancePhase } from '../../src/reconcile/index.js';
import { until } from '../support/until.js';
import { nanosecondsNow } from './chain-appenders.js';
import { eventually } from './chain-cluster.js';
import { expectEveryEventOnce, journalOf, writeSendHistory } from './daemon-checks.js';
import { type DaemonCluster, everyMemberSynced, startDaemonCluster } from './daemon-cluster.js';
import { DaemonSenders } from './daemon-senders.js';
import { exitCode, meshos } from './meshos-process.js';

const DAEMON = 'audit';
const SENDERS = 8;
const MAX_SENDS_PER_SENDER = 2_000;
const LOAD_MAX_MS = 240_000;
const SEND_TIMEOUT_MS = 3_000;
const ACKS_BEFORE_DRAIN = 100;
const ACKS_AFTER_DRAIN = 60;
const CALL_TIMEOUT_MS = 5_000;
const DRAIN_DEADLINE_MS = 120_000;
const FAILING_DEADLINE_MS = 8_000;
const RAMP_UP_MS = 5_000;
const CLI_TIMEOUT_MS = DRAIN_DEADLINE_MS + 30_000;
const CLUSTER_TIMEOUT_MS = 60_000;

describe('node drain and maintenance on processes', () => {
  let mesh: DaemonCluster | undefined;
  let client: MaintenanceClient | undefined;
  afterEach(async () => {
    await client?.close();
    client = undefined;
    await mesh?.stop();
    mesh = undefined;
  });

  /** `meshos node ARGS --endpoints <node via's client port>`: its exit code and output. */
  async function cli(via: number, args: readonly string[]): Promise<{ code: number | null; output: string }> {
    const running = meshos(['node', ...args, '--endpoints', mesh!.cluster.plan(via).client]);
    const code = await exitCode(running, CLI_TIMEOUT_MS);
    return { code, output: running.output() };
  }

  /** `meshos actions` through node `via`: the reconciler's recent actions (for a failure's message). */
  async function reconcileActions(via: number): Promise<string> {
    const running = meshos(['actions', '--endpoints', mesh!.cluster.plan(via).client]);
    await exitCode(running, CLI_TIMEOUT_MS);
    return running.output();
  }

  /** The JSON status a `--json` command printed (its last line). */
  function printedStatus(output: string): MaintenanceStatus {
    const line = output
      .trim()
      .split('\n')
      .filter((text) => text.startsWith('{'))
      .pop();
    if (line === undefined) throw new Error(`no JSON status in: ${output}`);
    return JSON.parse(line) as MaintenanceStatus;
  }

  /** Polls the node's phase until Active; answers every phase seen on the way, in order. */
  async function phasesUntilActive(
    node: number,
  ): Promise<{ phases: MaintenancePhase[]; recovery?: MaintenanceStatus }> {
    const phases: MaintenancePhase[] = [];
    let recovery: MaintenanceStatus | undefined;
    await until(
      async () => {
        const status = await client!.status(node);
        if (phases[phases.length - 1] !== status.state.phase) phases.push(status.state.phase);
        if (status.state.phase === 'Recovery') recovery ??= status;
        return status.state.phase === 'Active';
      },
      `node ${node} Active again`,
      CLUSTER_TIMEOUT_MS,
    );
    return { phases, ...(recovery === undefined ? {} : { recovery }) };
  }

  /**
   * Runs `meshos node drain NODE --deadline D --json` through node `via` while 8 senders send:
   * from ACKS_BEFORE_DRAIN acknowledged events on, until ACKS_AFTER_DRAIN more after it ended.
   */
  async function drainUnderLoad(
    started: DaemonCluster,
    via: number,
    node: number,
    deadline: string,
  ): Promise<{ drain: { code: number | null; output: string }; senders: DaemonSenders; tookMs: number }> {
    const senders = new DaemonSenders({
      endpoints: started.cluster.clientEndpoints,
      daemon: DAEMON,
      senders: SENDERS,
      maxSendsPerSender: MAX_SENDS_PER_SENDER,
      maxDurationMs: LOAD_MAX_MS,
      sendTimeoutMs: SEND_TIMEOUT_MS,
    });
    try {
      await until(
        () => senders.acknowledged() >= ACKS_BEFORE_DRAIN,
        'events before the drain',
        CLUSTER_TIMEOUT_MS,
      );
      const startedAt = Date.now();
      const drain = await cli(via, ['drain', String(node), '--deadline', deadline, '--json']);
      const tookMs = Date.now() - startedAt;
      const endedAt = nanosecondsNow();
      await until(
        () => senders.acknowledged(endedAt) >= ACKS_AFTER_DRAIN,
        'events after the drain',
        CLUSTER_TIMEOUT_MS,
      );
      return { drain, senders, tookMs };
    } finally {
      await senders.stop();
    }
  }

  it('4 nodes, 8 senders: drains the active node to Maintenance within its deadline, no event lost; exit through Recovery', async () => {
    const started = await startDaemonCluster(4);
    mesh = started;
    const { ids } = started;
    await eventually('deploy', () =>
      started.client(ids[0]!).deploy(DAEMON, 'journal', 'GROUP_STANDBY', 2, CALL_TIMEOUT_MS),
    );
    // Roles as they are once both members are synced (the deploy's answer may predate a failover).
    await started.awaitStatus(
      DAEMON,
      [ids[0]!],
      'both members synced',
      CLUSTER_TIMEOUT_MS,
      everyMemberSynced,
    );
    const before = await started.client(ids[0]!).status(DAEMON, CALL_TIMEOUT_MS);
    const drained = before.members.find((member) => member.role === 'ROLE_ACTIVE')!.node;
    const standby = before.members.find((member) => member.role === 'ROLE_STANDBY')!.node;
    const via = ids.find((id) => id !== drained)!;
    client = await MaintenanceClient.connect({ endpoints: [started.cluster.plan(via).client] });

    const { drain, senders, tookMs } = await drainUnderLoad(
      started,
      via,
      drained,
      `${DRAIN_DEADLINE_MS / 1_000}s`,
    );
    console.log(`node ${drained} drained in ${tookMs} ms`);
    expect(drain.code, drain.output).toBe(0);
    const outcome = printedStatus(drain.output);
    expect(outcome.state).toEqual({ phase: 'Maintenance' });
    expect(outcome.changedAtWallMs).toBeLessThanOrEqual(outcome.request!.deadlineWallMs!);
    expect(outcome).toMatchObject({ node: drained, empty: true, holdings: { daemons: [], chains: [] } });
    const status = await cli(via, ['maintenance', 'status', String(drained), '--json']);
    expect(status.code).toBe(0);
    expect(printedStatus(status.output)).toMatchObject({ state: { phase: 'Maintenance' }, empty: true });

    // The active went to the standby (no checkpoint transfer) unless placement skipped the
    // standby's node (the reconciler avoids a node it measured slow); the node's member went to a
    // free node.
    const after = await started.client(via).status(DAEMON, CALL_TIMEOUT_MS);
    const activeAfter = after.members.find((member) => member.role === 'ROLE_ACTIVE')!.node;
    const avoided = await cli(via, ['avoid', 'list', '--json']);
    const standbyAvoided = (JSON.parse(avoided.output.trim()) as { node: number }[]).some(
      (entry) => entry.node === standby,
    );
    const actions = standbyAvoided || activeAfter === standby ? '' : await reconcileActions(via);
    expect(
      standbyAvoided ? activeAfter !== drained : activeAfter === standby,
      `active now on node ${activeAfter}, standby was on node ${standby}; avoided: ${avoided.output}; ` +
        `drain: ${drain.output}; actions: ${actions}`,
    ).toBe(true);
    expect(after.members.map((member) => member.node)).not.toContain(drained);
    // Placement skips a node in maintenance.
    const fresh = await eventually('deploy during maintenance', () =>
      started.client(via).deploy('fresh', 'journal', 'GROUP_STANDBY', 3, CALL_TIMEOUT_MS),
    );
    expect(fresh.members.map((member) => member.node).sort()).toEqual(
      ids.filter((id) => id !== drained).sort(),
    );

    console.log(
      `drain under load: ${writeSendHistory('maintenance-drain-4-nodes-history.jsonl', senders.operations)}`,
    );
    await started.awaitStatus(DAEMON, [via], 'both members synced', CLUSTER_TIMEOUT_MS, everyMemberSynced);
    const journals = await Promise.all(
      [0, 1].map((member) => journalOf(started.client(via), DAEMON, member)),
    );
    expect(journals[1]).toEqual(journals[0]);
    await expectEveryEventOnce(started.client(via), DAEMON, senders.operations, journals[0]!);

    const exit = await cli(via, [
      'maintenance',
      'exit',
      String(drained),
      '--ramp-up',
      `${RAMP_UP_MS}ms`,
      '--json',
    ]);
    expect(exit.code, exit.output).toBe(0);
    expect(printedStatus(exit.output).request).toMatchObject({ target: 'active', rampUpMs: RAMP_UP_MS });
    const { phases, recovery } = await phasesUntilActive(drained);
    expect(phases).toContain('Recovery');
    expect(phases[phases.length - 1]).toBe('Active');
    const recoveryState = recovery!.state as { phase: 'Recovery'; untilWallMs: number };
    // The ramp-up asked for, counted from the transition (committed a moment after it was decided).
    expect(recoveryState.untilWallMs - recovery!.changedAtWallMs).toBeLessThanOrEqual(RAMP_UP_MS);
    expect(recoveryState.untilWallMs - recovery!.changedAtWallMs).toBeGreaterThan(RAMP_UP_MS - 2_000);
  }, 400_000);

  it('3 nodes, a group of 3: a drain that cannot finish ends in DrainFailed with its reason; no event lost', async () => {
    const started = await startDaemonCluster(3);
    mesh = started;
    const { ids } = started;
    const deployed = await eventually('deploy', () =>
      started.client(ids[0]!).deploy(DAEMON, 'journal', 'GROUP_STANDBY', 3, CALL_TIMEOUT_MS),
    );
    const standby = deployed.members.find((member) => member.role === 'ROLE_STANDBY')!;
    const via = ids.find((id) => id !== standby.node)!;
    client = await MaintenanceClient.connect({ endpoints: [started.cluster.plan(via).client] });

    const { drain, senders } = await drainUnderLoad(started, via, standby.node, `${FAILING_DEADLINE_MS}ms`);
    expect(drain.code, drain.output).toBe(1);
    const outcome = printedStatus(drain.output);
    expect(outcome.state.phase).toBe('DrainFailed');
    const { reason } = outcome.state as { phase: 'DrainFailed'; reason: string };
    expect(reason).toContain(
      `daemon ${DAEMON} member ${standby.index} (standby): no healthy Active node without a member of the daemon to re-home it to`,
    );
    expect(reason).toContain(
      `chain daemon.${DAEMON}.inbound (replica): no healthy Active node outside its replicas to re-home it to`,
    );
    // A failed drain keeps what the node holds.
    expect(outcome.empty).toBe(false);
    const kept = await started.client(via).status(DAEMON, CALL_TIMEOUT_MS);
    expect(kept.members.map((member) => member.node).sort()).toEqual([...ids].sort());

    console.log(
      `failed drain under load: ${writeSendHistory('maintenance-drain-failed-3-nodes-history.jsonl', senders.operations)}`,
    );
    await started.awaitStatus(DAEMON, [via], 'every member synced', CLUSTER_TIMEOUT_MS, everyMemberSynced);
    const journal = await journalOf(started.client(via), DAEMON);
    await expectEveryEventOnce(started.client(via), DAEMON, senders.operations, journal);

    const again = await cli(via, ['maintenance', 'enter', String(standby.node)]);
    expect(again.code).toBe(1);
    expect(again.output).toContain('MAINTENANCE_DRAIN_FAILED');
    const unknown = await cli(via, ['maintenance', 'status', '99']);
    expect([unknown.code, unknown.output.includes('MAINTENANCE_NODE_UNKNOWN')]).toEqual([1, true]);
    const badDeadline = await cli(via, ['drain', String(via), '--deadline', '0s']);
    expect([badDeadline.code, badDeadline.output.includes('MAINTENANCE_DEADLINE_INVALID')]).toEqual([
      1,
      true,
    ]);
    const notEntered = await cli(via, ['maintenance', 'exit', String(via)]);
    expect([notEntered.code, notEntered.output.includes('MAINTENANCE_NOT_ENTERED')]).toEqual([1, true]);

    const exit = await cli(via, [
      'maintenance',
      'exit',
      String(standby.node),
      '--ramp-up',
      `${RAMP_UP_MS}ms`,
    ]);
    expect(exit.code, exit.output).toBe(0);
    const { phases } = await phasesUntilActive(standby.node);
    expect(phases).toContain('Recovery');
  }, 400_000);
});
