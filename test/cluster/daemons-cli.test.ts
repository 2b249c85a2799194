/**
 * `meshos daemon ...` and `client.daemons` end to end: three voters started with the built
 * `meshos start`, the built CLI run against different nodes. A journal standby group deployed
 * from the command line takes events through every node (one sent twice with the same --id is
 * answered as a duplicate and applied once); status --json has exactly its documented shape;
 * outputs, state and list read back what was sent; a following `client.daemons.outputs` sees an
 * event sent later from the CLI; remove leaves DAEMON_NOT_FOUND.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { MeshClient } from '../../src/client/index.js';
import { until } from '../support/until.js';
import { eventually } from './chain-cluster.js';
import { exitCode, meshos } from './meshos-process.js';
import { ProcessCluster } from './process-cluster.js';

const CLI_TIMEOUT_MS = 30_000;
const CLUSTER_TIMEOUT_MS = 60_000;
const STARTUP_TIMEOUT_MS = 90_000;

describe('meshos daemon on three nodes', () => {
  let cluster: ProcessCluster | undefined;
  let client: MeshClient | undefined;
  afterEach(async () => {
    client?.close();
    await cluster?.stopAll();
  });

  /** Runs `meshos daemon ARGS --endpoints` node `id`'s client port; its exit code and output. */
  async function daemon(id: number, args: string[]): Promise<{ code: number | null; output: string }> {
    const running = meshos(['daemon', ...args, '--endpoints', cluster!.plan(id).client]);
    const code = await exitCode(running, CLI_TIMEOUT_MS);
    return { code, output: running.output() };
  }

  async function daemonJson(id: number, args: string[]): Promise<unknown> {
    const result = await daemon(id, [...args, '--json']);
    if (result.code !== 0)
      throw new Error(`meshos daemon ${args.join(' ')} exited ${result.code}: ${result.output}`);
    return JSON.parse(result.output);
  }

  it('deploys, sends through every node, reports status, outputs, state and list, and removes', async () => {
    cluster = await ProcessCluster.create(3);
    cluster.startAll();
    await cluster.waitForLeader(STARTUP_TIMEOUT_MS);
    const ids = cluster.plans.map((plan) => plan.id);

    // Placement needs every node registered: retried until the mesh can place three members.
    const deployed = (await eventually(
      'deploy log from the command line',
      () => daemonJson(1, ['deploy', 'log', '--kind', 'journal', '--group', 'standby', '--members', '3']),
      CLUSTER_TIMEOUT_MS,
    )) as { members: { node: number; role: string }[] };
    expect(new Set(deployed.members.map((member) => member.node))).toEqual(new Set(ids));

    const sent: string[] = [];
    for (const [position, id] of ids.entries()) {
      const payload = `via-node-${id}`;
      const answer = (await daemonJson(id, ['send', 'log', payload, '--id', `cli:${position + 1}`])) as {
        duplicate: boolean;
        outputs: string[];
      };
      expect(answer).toMatchObject({ duplicate: false, outputs: [String(sent.length)] });
      sent.push(payload);
    }
    const repeat = (await daemonJson(ids[1]!, ['send', 'log', 'via-node-3', '--id', 'cli:3'])) as {
      duplicate: boolean;
    };
    expect(repeat.duplicate).toBe(true);

    let status: Record<string, unknown> = {};
    await until(
      async () => {
        status = (await daemonJson(ids[2]!, ['status', 'log'])) as Record<string, unknown>;
        const members = status.members as { healthy: boolean; syncedThrough: number }[];
        return members.every((member) => member.healthy && member.syncedThrough === status.inboundThrough);
      },
      'every member to be healthy and synced',
      CLUSTER_TIMEOUT_MS,
    );
    expect(Object.keys(status)).toEqual([
      'schemaVersion',
      'name',
      'kind',
      'group',
      'epoch',
      'members',
      'inboundThrough',
    ]);
    expect(status).toMatchObject({ name: 'log', kind: 'journal', group: 'standby', epoch: 1 });
    const members = status.members as Record<string, unknown>[];
    for (const member of members) {
      expect(Object.keys(member)).toEqual(['index', 'node', 'role', 'syncedThrough', 'healthy']);
    }
    expect(members.map((member) => member.role)).toEqual(['active', 'standby', 'standby']);

    // Sequences are the output chain's offsets: increasing, not necessarily from 0 or dense.
    // Followed: the active writes outputs after it answered the sends.
    const outputs = await daemon(ids[0]!, ['outputs', 'log', '--from', '0', '--follow', '--count', '3']);
    expect(outputs.code).toBe(0);
    const lines = outputs.output
      .trimEnd()
      .split('\n')
      .map((line) => line.split('\t'));
    expect(lines.map(([, payload]) => payload)).toEqual(['0', '1', '2']);
    const sequences = lines.map(([sequence]) => Number(sequence));
    expect(sequences).toEqual([...sequences].sort((left, right) => left - right));
    const nextSequence = (sequences.at(-1) as number) + 1;
    const state = (await daemonJson(ids[1]!, ['state', 'log', '--member', '2'])) as Record<string, unknown>;
    expect(state).toMatchObject({ name: 'log', memberIndex: 2, appliedThrough: status.inboundThrough });
    const listed = (await daemonJson(ids[2]!, ['list'])) as { name: string; group: string }[];
    expect(listed.map((definition) => [definition.name, definition.group])).toEqual([['log', 'standby']]);

    // The client follows the outputs through any endpoint while the CLI sends one more event.
    client = await MeshClient.connect({ endpoints: cluster.clientEndpoints, timeoutMs: 10_000 });
    const following = (async () => {
      for await (const output of client!.daemons.outputs('log', {
        fromSequence: nextSequence,
        follow: true,
      })) {
        return output;
      }
      return undefined;
    })();
    await daemonJson(ids[2]!, ['send', 'log', 'late']);
    const late = await following;
    expect(late?.sequence).toBeGreaterThanOrEqual(nextSequence);
    expect(new TextDecoder().decode(late?.payload)).toBe(String(sent.length));

    expect((await daemon(ids[0]!, ['remove', 'log'])).code).toBe(0);
    const gone = await daemon(ids[1]!, ['status', 'log']);
    expect(gone.code).toBe(1);
    expect(gone.output).toMatch(/^meshos: DAEMON_NOT_FOUND: /);
  }, 300_000);
});
