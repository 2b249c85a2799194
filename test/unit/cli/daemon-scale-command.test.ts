/**
 * `meshos daemon scale` against the etcd API on loopback (definitions stored by the test, as a
 * deploy would): the count lands in `reconcile/desired/<daemon>` as text and JSON say; counts a
 * group cannot have, groups that do not scale and unknown daemons are typed errors (exit 1 with
 * their code); bad command lines are usage errors (exit 2).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { daemonCommand } from '../../../src/cli/commands/daemon.js';
import { type ControlPlane, openControlPlane } from '../../../src/control/index.js';
import { DaemonDirectory } from '../../../src/daemons/directory.js';
import type { DaemonDefinition, DaemonGroupKind } from '../../../src/daemons/types.js';
import { DaemonScaleClient, type DaemonScaleResult } from '../../../src/mesh/index.js';
import { type LocalEtcd, startLocalEtcd } from '../../support/etcd-harness.js';

function definition(name: string, group: DaemonGroupKind, nodes: readonly number[]): DaemonDefinition {
  return {
    name,
    kind: 'counter',
    group,
    config: null,
    members: nodes.map((node, index) => ({ index, node })),
    ...(group === 'replica' ? {} : { active: 0 }),
    standbyMode: 'hot',
    acks: 'quorum',
    epoch: 1,
    createdAtMs: 1,
    ...(group === 'fork' ? { forkOf: { parent: 'tally', inboundOffset: 0 } } : {}),
  };
}

describe('meshos daemon scale', () => {
  let node: LocalEtcd;
  let plane: ControlPlane;

  beforeAll(async () => {
    node = await startLocalEtcd();
    plane = await openControlPlane({ kind: 'in-process', backend: node.backend });
    const directory = new DaemonDirectory(plane);
    await directory.create(definition('tally', 'standby', [1, 2]));
    await directory.create(definition('solo', 'single', [1]));
    await directory.create(definition('shards', 'replica', [1, 2, 3]));
  });
  afterAll(async () => {
    await plane.close();
    await node.close();
  });

  async function run(argv: string[]): Promise<{ code: number; out: string[]; err: string[] }> {
    const out: string[] = [];
    const err: string[] = [];
    const code = await daemonCommand(['scale', ...argv, '--endpoints', node.server.address], {
      out: (line) => out.push(line),
      err: (line) => err.push(line),
    });
    return { code, out, err };
  }

  async function stored(name: string): Promise<number | undefined> {
    const client = new DaemonScaleClient(plane);
    return client.desired(name);
  }

  it('stores the count and says so as text and as JSON', async () => {
    const text = await run(['tally', '--members', '3']);
    expect(text.code, text.err.join('\n')).toBe(0);
    expect(text.out).toEqual([
      'daemon tally (standby): 3 members asked for, 2 placed now (reconcile starts or stops members to match)',
    ]);
    expect(await stored('tally')).toBe(3);
    const json = await run(['tally', '--members', '2', '--json']);
    expect(json.code).toBe(0);
    expect(JSON.parse(json.out[0]!) as DaemonScaleResult).toEqual({
      name: 'tally',
      group: 'standby',
      members: 2,
      placed: 2,
    });
    expect(await stored('tally')).toBe(2);
  });

  it('refuses counts the group cannot have, groups that do not scale and unknown daemons, with their codes', async () => {
    const tooFew = await run(['tally', '--members', '1']);
    expect(tooFew.code).toBe(1);
    expect(tooFew.err.join('\n')).toContain('DAEMON_SCALE_INVALID');
    expect(tooFew.err.join('\n')).toContain('a standby group has 2 to');
    const single = await run(['solo', '--members', '2']);
    expect(single.code).toBe(1);
    expect(single.err.join('\n')).toMatch(/DAEMON_SCALE_INVALID.*single daemon has one member/);
    const replica = await run(['shards', '--members', '4']);
    expect(replica.code).toBe(1);
    expect(replica.err.join('\n')).toMatch(/DAEMON_SCALE_INVALID.*replica group is not scaled/);
    const missing = await run(['ghost', '--members', '2']);
    expect(missing.code).toBe(1);
    expect(missing.err.join('\n')).toContain('DAEMON_NOT_FOUND');
    expect(await stored('solo')).toBeUndefined();
    expect(await stored('shards')).toBeUndefined();
    expect(await stored('tally')).toBe(2);
  });

  it('a removed daemon takes its asked-for count with it', async () => {
    const directory = new DaemonDirectory(plane);
    await directory.create(definition('brief', 'fork', [1, 2]));
    expect((await run(['brief', '--members', '3'])).code).toBe(0);
    expect(await stored('brief')).toBe(3);
    await directory.delete('brief');
    expect(await stored('brief')).toBeUndefined();
  });

  it('usage errors: a non-integer count, no count, no name', async () => {
    const notInteger = await run(['tally', '--members', 'three']);
    expect(notInteger.code).toBe(2);
    expect(notInteger.err[0]).toBe("meshos: --members must be a non-negative integer, got 'three'");
    const noCount = await run(['tally']);
    expect(noCount.code).toBe(2);
    expect(noCount.err[0]).toBe('meshos: --members N is required');
    const noName = await run(['--members', '3']);
    expect(noName.code).toBe(2);
    expect(noName.err[0]).toContain('expected NAME');
  });
});
