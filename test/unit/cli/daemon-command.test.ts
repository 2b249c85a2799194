/**
 * `meshos daemon ...`: flag parsing and output formats on their own, then every subcommand (each
 * with `--json`) against the daemons API over the fake backend on loopback.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UsageError } from '../../../src/cli/commands/common.js';
import {
  DAEMON_USAGE,
  daemonCommand,
  daemonListLines,
  daemonStatusJson,
  daemonStatusLines,
  deployOptionsFrom,
  parseEventId,
} from '../../../src/cli/commands/daemon.js';
import type { DaemonStatus } from '../../../src/daemons/index.js';
import { type LocalEtcd, startLocalEtcd } from '../../support/etcd-harness.js';
import { FakeDaemonsBackend } from '../../support/fake-daemons-backend.js';
import { until } from '../../support/until.js';

const STATUS: DaemonStatus = {
  name: 'tally',
  kind: 'counter',
  group: 'standby',
  epoch: 3,
  members: [
    { index: 0, node: 4, role: 'active', syncedThrough: 12, healthy: true },
    { index: 1, node: 7, role: 'standby', syncedThrough: -1, healthy: false },
  ],
  inboundThrough: 12,
};

describe('parsing', () => {
  it('deploy flags: required kind, group and members; a single daemon defaults to one member', () => {
    expect(deployOptionsFrom({ kind: 'counter', group: 'single' })).toEqual({
      kind: 'counter',
      group: 'single',
      members: 1,
    });
    expect(
      deployOptionsFrom({
        kind: 'journal',
        group: 'standby',
        members: '3',
        config: '{"maxEntries":10}',
        'standby-mode': 'warm',
        acks: 'all',
      }),
    ).toEqual({
      kind: 'journal',
      group: 'standby',
      members: 3,
      config: { maxEntries: 10 },
      standbyMode: 'warm',
      acks: 'all',
    });
    expect(
      deployOptionsFrom({ kind: 'journal', group: 'fork', members: '2', from: 'origin', at: '7' }),
    ).toEqual({
      kind: 'journal',
      group: 'fork',
      members: 2,
      forkOf: { parent: 'origin', inboundOffset: 7 },
    });
    expect(
      deployOptionsFrom({ kind: 'journal', group: 'fork', members: '1', from: 'origin' }).forkOf,
    ).toEqual({
      parent: 'origin',
    });
    const refusals: [Record<string, string>, string][] = [
      [{ kind: 'k', group: 'fork', members: '1' }, 'a fork group needs --from PARENT'],
      [
        { kind: 'k', group: 'standby', members: '2', from: 'p' },
        '--from and --at apply to fork groups, not standby',
      ],
      [
        { kind: 'k', group: 'fork', members: '1', from: 'p', at: 'x' },
        "--at must be a non-negative integer, got 'x'",
      ],
      [{ group: 'single' }, '--kind K is required'],
      [{ kind: 'k' }, '--group single|standby|replica|fork is required'],
      [{ kind: 'k', group: 'pair' }, "--group must be single, standby, replica or fork, got 'pair'"],
      [{ kind: 'k', group: 'standby' }, '--members N (at least 1) is required'],
      [
        { kind: 'k', group: 'standby', members: 'two' },
        "--members must be a non-negative integer, got 'two'",
      ],
      [{ kind: 'k', group: 'single', members: '2' }, 'a single daemon has 1 member, not 2'],
      [{ kind: 'k', group: 'fork', members: '2', config: '{x', from: 'p' }, '--config must be JSON: '],
      [
        { kind: 'k', group: 'standby', members: '2', 'standby-mode': 'cold' },
        "--standby-mode must be hot or warm, got 'cold'",
      ],
      [
        { kind: 'k', group: 'replica', members: '2', 'standby-mode': 'hot' },
        '--standby-mode applies to standby groups, not replica',
      ],
      [
        { kind: 'k', group: 'fork', members: '2', acks: 'most', from: 'p' },
        "--acks must be one, quorum or all, got 'most'",
      ],
    ];
    for (const [values, message] of refusals) {
      expect(() => deployOptionsFrom(values), message).toThrow(UsageError);
      expect(() => deployOptionsFrom(values)).toThrow(message);
    }
  });

  it('--id is CLIENT:SEQUENCE, split at the last colon', () => {
    expect(parseEventId(undefined)).toBeUndefined();
    expect(parseEventId('writer-1:42')).toEqual({ clientId: 'writer-1', sequence: 42 });
    expect(parseEventId('host:7:0')).toEqual({ clientId: 'host:7', sequence: 0 });
    for (const bad of ['42', ':42', 'writer:', 'writer:-1', 'writer:1.5', 'writer:x']) {
      expect(() => parseEventId(bad)).toThrow(
        `--id must be CLIENT:SEQUENCE (a non-empty client id, an integer), got '${bad}'`,
      );
    }
  });
});

describe('output', () => {
  it('status --json is exactly schemaVersion, name, kind, group, epoch, members, inboundThrough', () => {
    expect(JSON.stringify(daemonStatusJson(STATUS))).toBe(
      '{"schemaVersion":1,"name":"tally","kind":"counter","group":"standby","epoch":3,"members":[' +
        '{"index":0,"node":4,"role":"active","syncedThrough":12,"healthy":true},' +
        '{"index":1,"node":7,"role":"standby","syncedThrough":-1,"healthy":false}],"inboundThrough":12}',
    );
  });

  it("status --json carries the operator's count last, only when one was asked for", () => {
    expect(JSON.stringify(daemonStatusJson({ ...STATUS, desiredMembers: 3 }))).toBe(
      '{"schemaVersion":1,"name":"tally","kind":"counter","group":"standby","epoch":3,"members":[' +
        '{"index":0,"node":4,"role":"active","syncedThrough":12,"healthy":true},' +
        '{"index":1,"node":7,"role":"standby","syncedThrough":-1,"healthy":false}],"inboundThrough":12,' +
        '"desiredMembers":3}',
    );
    expect(daemonStatusJson(STATUS)).not.toHaveProperty('desiredMembers');
  });

  it('status as text says how many members are placed and asked for, and which way reconcile goes', () => {
    const header = daemonStatusLines(STATUS).length;
    const countLine = (desiredMembers: number) =>
      daemonStatusLines({ ...STATUS, desiredMembers }).slice(header);
    expect(countLine(3)).toEqual(['  members: 2 placed, 3 asked for (reconcile is starting members)']);
    expect(countLine(2)).toEqual(['  members: 2 placed, 2 asked for']);
    expect(countLine(1)).toEqual(['  members: 2 placed, 1 asked for (reconcile is stopping members)']);
  });

  it('status and list as text', () => {
    expect(daemonStatusLines(STATUS)).toEqual([
      'daemon tally: kind counter, group standby, epoch 3, inbound through 12',
      '  member 0 on node 4: active, synced through 12, healthy',
      '  member 1 on node 7: standby, synced through unknown, UNHEALTHY',
    ]);
    const definition = {
      config: undefined,
      standbyMode: 'hot',
      acks: 'quorum',
      createdAtMs: 0,
    } as const;
    expect(
      daemonListLines([
        {
          ...definition,
          name: 'tally',
          kind: 'counter',
          group: 'standby',
          epoch: 3,
          active: 1,
          members: [
            { index: 0, node: 4 },
            { index: 1, node: 7 },
          ],
        },
        {
          ...definition,
          name: 'spread-out',
          kind: 'journal',
          group: 'replica',
          epoch: 1,
          members: [{ index: 0, node: 2 }],
        },
        {
          ...definition,
          name: 'branch',
          kind: 'counter',
          group: 'fork',
          epoch: 2,
          active: 0,
          members: [{ index: 0, node: 5 }],
          forkOf: { parent: 'tally', inboundOffset: 40 },
        },
      ]),
    ).toEqual([
      'NAME        KIND     GROUP    EPOCH  ACTIVE  NODES  FORK OF',
      'tally       counter  standby  3      7       4,7    -',
      'spread-out  journal  replica  1      -       2      -',
      'branch      counter  fork     2      5       5      tally@40',
    ]);
  });
});

describe('against a node', () => {
  let backend: FakeDaemonsBackend;
  let node: LocalEtcd;

  beforeAll(async () => {
    backend = new FakeDaemonsBackend({ nodeCount: 4 });
    node = await startLocalEtcd({ daemons: backend });
  });

  afterAll(async () => {
    await node.close();
  });

  async function run(
    argv: string[],
    extra: { signal?: AbortSignal; onOut?: (line: string) => void } = {},
  ): Promise<{ code: number; out: string[]; err: string[] }> {
    const out: string[] = [];
    const err: string[] = [];
    const code = await daemonCommand([...argv, '--endpoints', node.server.address], {
      out: (line) => {
        out.push(line);
        extra.onOut?.(line);
      },
      err: (line) => err.push(line),
      ...(extra.signal === undefined ? {} : { signal: extra.signal }),
    });
    return { code, out, err };
  }

  const json = (result: { out: string[] }): unknown => JSON.parse(result.out[0] ?? '');

  it('deploys, lists, reports status, sends, reads state, moves and removes, as text and as JSON', async () => {
    const deployed = await run([
      'deploy',
      'tally',
      '--kind',
      'counter',
      '--group',
      'standby',
      '--members',
      '2',
      '--json',
    ]);
    expect(deployed.code).toBe(0);
    expect(json(deployed)).toEqual({
      schemaVersion: 1,
      name: 'tally',
      kind: 'counter',
      group: 'standby',
      epoch: 1,
      members: [
        { index: 0, node: 1, role: 'active', syncedThrough: 0, healthy: true },
        { index: 1, node: 2, role: 'standby', syncedThrough: 0, healthy: true },
      ],
      inboundThrough: 0,
    });

    expect(await run(['send', 'tally', '5', '--key', 'k'])).toEqual({
      code: 0,
      out: ['sent to tally: inbound offset 0, member 0, epoch 1', '  output: 5'],
      err: [],
    });
    expect(json(await run(['send', 'tally', '7', '--id', 'cli:1', '--json']))).toEqual({
      epoch: 1,
      inboundOffset: 1,
      memberIndex: 0,
      duplicate: false,
      outputs: ['12'],
    });
    // The same --id again is answered with the first answer and not applied.
    expect((await run(['send', 'tally', '7', '--id', 'cli:1'])).out[0]).toBe(
      'sent to tally: inbound offset 1, member 0, epoch 1 (a duplicate: answered, not applied again)',
    );

    const statusJson = await run(['status', 'tally', '--json']);
    expect(statusJson.out).toEqual([
      '{"schemaVersion":1,"name":"tally","kind":"counter","group":"standby","epoch":1,"members":[' +
        '{"index":0,"node":1,"role":"active","syncedThrough":2,"healthy":true},' +
        '{"index":1,"node":2,"role":"standby","syncedThrough":2,"healthy":true}],"inboundThrough":2}',
    ]);
    expect((await run(['status', 'tally'])).out[0]).toBe(
      'daemon tally: kind counter, group standby, epoch 1, inbound through 2',
    );

    expect((await run(['state', 'tally', '--member', '1'])).out).toEqual([
      'daemon tally, member 1 (epoch 1), applied through 2:',
      '{"events":2,"sum":12}',
    ]);
    expect(json(await run(['state', 'tally', '--json']))).toEqual({
      name: 'tally',
      epoch: 1,
      memberIndex: 0,
      appliedThrough: 2,
      state: '{"events":2,"sum":12}',
    });

    expect((await run(['list'])).out).toEqual([
      'NAME   KIND     GROUP    EPOCH  ACTIVE  NODES  FORK OF',
      'tally  counter  standby  1      1       1,2    -',
    ]);
    expect(json(await run(['list', '--json']))).toEqual([
      {
        name: 'tally',
        kind: 'counter',
        group: 'standby',
        members: [
          { index: 0, node: 1 },
          { index: 1, node: 2 },
        ],
        active: 0,
        standbyMode: 'hot',
        acks: 'quorum',
        epoch: 1,
        createdAtMs: 1_700_000_000_000,
      },
    ]);

    expect((await run(['move', 'tally', '--to', '3'])).out).toEqual([
      'moved tally from node 1 to node 3 (epoch 2), events paused 1.5 ms',
      ...['snapshot', 'transfer', 'restore', 'replay', 'cutover', 'complete'].map(
        (phase) => `  ${phase}: 0.25 ms`,
      ),
    ]);
    expect(json(await run(['move', 'tally', '--to', '4', '--json']))).toMatchObject({
      from: 3,
      to: 4,
      epoch: 3,
    });

    expect(await run(['remove', 'tally'])).toEqual({ code: 0, out: ['removed tally'], err: [] });
    expect(json(await run(['list', '--json']))).toEqual([]);
    await run(['deploy', 'gone', '--kind', 'journal', '--group', 'single']);
    expect((await run(['remove', 'gone', '--json'])).out).toEqual(['{"removed":"gone"}']);
  });

  it('outputs prints from --from to the end, or follows until --count or the stop signal', async () => {
    await run(['deploy', 'log', '--kind', 'journal', '--group', 'single']);
    for (const payload of ['h0', 'h1', 'h2']) await run(['send', 'log', payload]);
    expect(await run(['outputs', 'log', '--from', '1'])).toEqual({
      code: 0,
      out: ['1\th1', '2\th2'],
      err: [],
    });
    expect((await run(['outputs', 'log', '--from', '2', '--json'])).out).toEqual([
      '{"sequence":2,"inboundOffset":2,"index":0,"payload":"h2"}',
    ]);
    expect((await run(['outputs', 'log', '--follow', '--count', '2'])).out).toEqual(['0\th0', '1\th1']);

    const stop = new AbortController();
    const following = run(['outputs', 'log', '--from', '3', '--follow', '--json'], {
      signal: stop.signal,
      onOut: () => stop.abort(),
    });
    await until(() => backend.openOutputStreams === 1, 'outputs to open its stream');
    await run(['send', 'log', 'live']);
    const result = await following;
    expect(result.code).toBe(0);
    expect(result.out.map((line) => JSON.parse(line).payload)).toEqual(['live']);
    await until(() => backend.openOutputStreams === 0, 'the stream to end');
  });

  it('reports operating errors with their code (exit 1) and bad command lines with usage (exit 2)', async () => {
    const missing = await run(['status', 'nope']);
    expect([missing.code, missing.err]).toEqual([
      1,
      [expect.stringMatching(/^meshos: DAEMON_NOT_FOUND: .*no daemon named nope$/)],
    ]);
    const unknownKind = await run(['deploy', 'k', '--kind', 'nope', '--group', 'single']);
    expect([unknownKind.code, unknownKind.err[0]]).toEqual([
      1,
      expect.stringMatching(/^meshos: DAEMON_KIND_UNKNOWN: /),
    ]);
    const usage = async (argv: string[], message: string): Promise<void> => {
      const result = await run(argv);
      expect([result.code, result.err]).toEqual([2, [`meshos: ${message}`, DAEMON_USAGE]]);
    };
    await usage(['deploy', 'x', '--kind', 'counter'], '--group single|standby|replica|fork is required');
    await usage(['send', 'x'], 'expected NAME DATA, got 1 argument(s)');
    await usage(
      ['send', 'x', '1', '--id', 'nope'],
      "--id must be CLIENT:SEQUENCE (a non-empty client id, an integer), got 'nope'",
    );
    await usage(['send', 'x', '1', '--key', ''], '--key must not be empty (leave it out for no key)');
    await usage(['state', 'x', '--member=-1'], "--member must be a non-negative integer, got '-1'");
    await usage(['outputs', 'x', '--count', '0'], '--count must be at least 1');
    await usage(['move', 'x'], '--to NODE (a node id, at least 1) is required');
    await usage(
      ['status', 'x', '--colour'],
      "Unknown option '--colour'. To specify a positional argument starting with a '-', place it at the end of the command after '--', as in '-- \"--colour\"",
    );
    await usage(['frobnicate'], "unknown daemon subcommand 'frobnicate'");
  });
});
