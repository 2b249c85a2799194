/**
 * `meshos node drain|maintenance` against the etcd API on loopback (the records a node's agent
 * would act on are committed by the test): text and JSON status, a drain that waits for its
 * outcome (exit 0 in Maintenance, progress on stderr), the typed errors as exit 1 with their
 * code, and usage errors as exit 2.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nodeCommand } from '../../../src/cli/commands/index.js';
import { type ControlPlane, nodeKey, openControlPlane } from '../../../src/control/index.js';
import { SystemClock } from '../../../src/lib/index.js';
import { type MaintenanceStatus, MaintenanceStore } from '../../../src/mesh/index.js';
import { type LocalEtcd, startLocalEtcd } from '../../support/etcd-harness.js';

describe('meshos node', () => {
  let node: LocalEtcd;
  let plane: ControlPlane;
  let store: MaintenanceStore;

  beforeAll(async () => {
    node = await startLocalEtcd();
    plane = await openControlPlane({ kind: 'in-process', backend: node.backend });
    for (const id of [2, 3]) await plane.put(nodeKey(id), new TextEncoder().encode('{}'));
    store = new MaintenanceStore(plane, new SystemClock());
  });
  afterAll(async () => {
    await plane.close();
    await node.close();
  });

  async function run(argv: string[]): Promise<{ code: number; out: string[]; err: string[] }> {
    const out: string[] = [];
    const err: string[] = [];
    const code = await nodeCommand([...argv, '--endpoints', node.server.address], {
      out: (line) => out.push(line),
      err: (line) => err.push(line),
    });
    return { code, out, err };
  }

  it('asks a node into maintenance and shows its status as JSON and as text', async () => {
    const before = Date.now();
    const entered = await run(['maintenance', 'enter', '2', '--deadline', '30s', '--json']);
    expect(entered.code).toBe(0);
    const status = JSON.parse(entered.out[0]!) as MaintenanceStatus;
    expect(status).toMatchObject({
      node: 2,
      state: { phase: 'Active' },
      request: { target: 'maintenance' },
      holdings: { daemons: [], chains: [], blobs: [] },
      empty: true,
    });
    expect(status.request!.deadlineWallMs! - status.request!.requestedAtWallMs).toBe(30_000);
    expect(status.request!.requestedAtWallMs).toBeGreaterThanOrEqual(before);
    const text = await run(['maintenance', 'status', '2']);
    expect(text.code).toBe(0);
    expect(text.out[0]).toBe('node 2: Active');
    expect(text.out[1]).toMatch(/^requested: maintenance at \d{4}-/);
    expect(text.out[2]).toBe('holds: nothing');
  });

  it('drain waits for the outcome: exit 0 once the node is in Maintenance, progress on stderr', async () => {
    const deadlineWallMs = Date.now() + 60_000;
    await store.commit(2, { phase: 'EnteringMaintenance', deadlineWallMs });
    const drained = run(['drain', '2']);
    // What the node's agent does once it holds nothing.
    await store.commit(2, { phase: 'Maintenance' });
    const { code, out, err } = await drained;
    expect(code).toBe(0);
    expect(out[0]).toBe('node 2: Maintenance');
    expect(err.some((line) => line.startsWith('node 2: '))).toBe(true);
  });

  it('a failed drain exits 1 with its reason; entering again is refused until exit', async () => {
    await store.enter(3);
    await store.commit(3, { phase: 'EnteringMaintenance', deadlineWallMs: Date.now() + 1_000 });
    await store.commit(3, { phase: 'DrainFailed', reason: 'daemon log member 1 (standby): nowhere to go' });
    const status = await run(['maintenance', 'status', '3', '--json']);
    expect((JSON.parse(status.out[0]!) as MaintenanceStatus).state).toEqual({
      phase: 'DrainFailed',
      reason: 'daemon log member 1 (standby): nowhere to go',
    });
    const again = await run(['drain', '3']);
    expect(again.code).toBe(1);
    expect(again.err[0]).toMatch(/^meshos: MAINTENANCE_DRAIN_FAILED: /);
    const exit = await run(['maintenance', 'exit', '3', '--ramp-up', '2s', '--json']);
    expect(exit.code).toBe(0);
    expect((JSON.parse(exit.out[0]!) as MaintenanceStatus).request).toMatchObject({
      target: 'active',
      rampUpMs: 2_000,
    });
  });

  it('answers bad input with typed errors (exit 1) and bad command lines with usage (exit 2)', async () => {
    for (const [argv, code] of [
      [['maintenance', 'status', '9'], 'MAINTENANCE_NODE_UNKNOWN'],
      [['maintenance', 'enter', '2', '--deadline', '0s'], 'MAINTENANCE_DEADLINE_INVALID'],
      [['maintenance', 'exit', '2', '--ramp-up', `${25 * 3_600}s`], 'MAINTENANCE_RAMP_UP_INVALID'],
    ] as const) {
      const answer = await run([...argv]);
      expect([answer.code, answer.err[0]?.split(':')[1]?.trim()]).toEqual([1, code]);
    }
    for (const argv of [
      [],
      ['maintenance', 'frob', '2'],
      ['reboot', '2'],
      ['drain', 'two'],
      ['drain', '2', '3'],
      ['drain', '2', '--deadline', 'soon'],
      ['maintenance', 'enter', '2', '--ramp-up', '1s'],
      ['maintenance', 'status', '2', '--deadline', '1s'],
    ]) {
      const answer = await run(argv);
      expect(answer.code, argv.join(' ')).toBe(2);
      expect(answer.err.join('\n')).toContain('usage:');
    }
  });
});
