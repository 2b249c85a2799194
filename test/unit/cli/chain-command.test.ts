/**
 * `meshos chain ...`: flag parsing and output formats on their own, then every subcommand against
 * the chains API over the fake backend on loopback.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ChainStatus } from '../../../src/api/index.js';
import {
  batchesOfLines,
  CLI_APPEND_BATCH_RECORDS,
  chainCommand,
  chainListLines,
  chainStatusJson,
  chainStatusLines,
  parseAcks,
  parseSync,
} from '../../../src/cli/commands/chain.js';
import { UsageError } from '../../../src/cli/commands/common.js';
import { type LocalEtcd, startLocalEtcd } from '../../support/etcd-harness.js';
import { FakeChainsBackend } from '../../support/fake-chains-backend.js';
import { until } from '../../support/until.js';

const STATUS: ChainStatus = {
  name: 'orders',
  epoch: 4,
  leader: 2,
  acks: 'quorum',
  replicas: [
    { node: 2, offset: 10, lag: 0, healthy: true },
    { node: 5, offset: 7, lag: 3, healthy: false },
  ],
  learners: [{ node: 9, offset: 1, lag: 9, healthy: true }],
  commitOffset: 10,
  startOffset: 2,
};

describe('parsing', () => {
  it('reads --acks and --sync, refusing anything else with a usage error', () => {
    expect(parseAcks('all')).toBe('all');
    expect(parseAcks(undefined)).toBeUndefined();
    expect(() => parseAcks('most')).toThrow(new UsageError("--acks must be one, quorum or all, got 'most'"));
    expect(parseSync('batch')).toEqual({ mode: 'batch' });
    expect(parseSync('interval:50')).toEqual({ mode: 'interval', intervalMs: 50 });
    for (const bad of ['interval:0', 'interval:', 'interval:-5', 'fsync']) {
      expect(() => parseSync(bad)).toThrow(UsageError);
    }
  });

  it('splits stdin into one record per line, batched by count', () => {
    expect(batchesOfLines('a\nb\r\n\nc\n')).toEqual([['a', 'b', '', 'c']]);
    expect(batchesOfLines('')).toEqual([]);
    const many = Array.from({ length: CLI_APPEND_BATCH_RECORDS + 1 }, (_, index) => String(index)).join('\n');
    expect(batchesOfLines(many).map((batch) => batch.length)).toEqual([CLI_APPEND_BATCH_RECORDS, 1]);
  });
});

describe('output', () => {
  it('status --json starts with name, epoch, leader, replicas, acks, in that order', () => {
    const json = chainStatusJson(STATUS);
    expect(Object.keys(json).slice(0, 5)).toEqual(['name', 'epoch', 'leader', 'replicas', 'acks']);
    expect(JSON.stringify(json)).toBe(
      '{"name":"orders","epoch":4,"leader":2,"replicas":[{"node":2,"offset":10,"lag":0,"healthy":true},' +
        '{"node":5,"offset":7,"lag":3,"healthy":false}],"acks":"quorum","commitOffset":10,"startOffset":2,' +
        '"learners":[{"node":9,"offset":1,"lag":9,"healthy":true}]}',
    );
    expect(chainStatusJson({ ...STATUS, leader: 0 }).leader).toBeNull();
  });

  it('status and list as text', () => {
    expect(chainStatusLines(STATUS)).toEqual([
      'chain orders: epoch 4, leader 2, acks quorum',
      '  offsets: start 2, commit 10',
      '  replica 2: offset 10, lag 0, healthy',
      '  replica 5: offset 7, lag 3, UNHEALTHY',
      '  learner 9: offset 1, lag 9, healthy',
    ]);
    expect(
      chainListLines([
        { name: 'orders', epoch: 4, leader: 2, acks: 'quorum', replicas: [2, 5, 7] },
        { name: 'a-much-longer-name', epoch: 0, leader: 0, acks: 'all', replicas: [1] },
      ]),
    ).toEqual([
      'NAME                EPOCH  LEADER  ACKS    REPLICAS',
      'orders              4      2       quorum  2,5,7',
      'a-much-longer-name  0      -       all     1',
    ]);
  });
});

describe('against a node', () => {
  let backend: FakeChainsBackend;
  let node: LocalEtcd;

  beforeAll(async () => {
    backend = new FakeChainsBackend({ nowMs: () => 1_000 });
    node = await startLocalEtcd({ chains: backend });
  });

  afterAll(async () => {
    await node.close();
  });

  async function run(
    argv: string[],
    extra: { input?: string; signal?: AbortSignal; onOut?: (line: string) => void } = {},
  ): Promise<{ code: number; out: string[]; err: string[] }> {
    const out: string[] = [];
    const err: string[] = [];
    const code = await chainCommand([...argv, '--endpoints', node.server.address], {
      out: (line) => {
        out.push(line);
        extra.onOut?.(line);
      },
      err: (line) => err.push(line),
      ...(extra.input === undefined ? {} : { readInput: async () => extra.input ?? '' }),
      ...(extra.signal === undefined ? {} : { signal: extra.signal }),
    });
    return { code, out, err };
  }

  it('creates, appends (arguments and stdin), reads, reports status, lists and deletes', async () => {
    const created = await run([
      'create',
      'events',
      '--replicas',
      '3',
      '--acks',
      'all',
      '--sync',
      'interval:20',
      '--json',
    ]);
    expect(created.code).toBe(0);
    expect(JSON.parse(created.out[0] ?? '')).toMatchObject({
      name: 'events',
      epoch: 1,
      leader: 1,
      acks: 'all',
    });

    expect(await run(['append', 'events', 'first', 'second'])).toEqual({
      code: 0,
      out: ['appended offsets 0..1 (epoch 1)'],
      err: [],
    });
    expect((await run(['append', 'events', '-', '--json'], { input: 'third\nfourth\n' })).out).toEqual([
      '{"epoch":1,"firstOffset":2,"lastOffset":3}',
    ]);

    expect((await run(['read', 'events', '--from', '1', '--limit', '2'])).out).toEqual([
      '1\tsecond',
      '2\tthird',
    ]);
    expect(JSON.parse((await run(['read', 'events', '--from', '3', '--json'])).out[0] ?? '')).toEqual({
      records: [{ offset: 3, epoch: 1, appendedAtMs: 1_000, payload: 'fourth' }],
      nextOffset: 4,
      commitOffset: 4,
    });

    expect((await run(['status', 'events', '--json'])).out).toEqual([
      '{"name":"events","epoch":1,"leader":1,"replicas":[{"node":1,"offset":4,"lag":0,"healthy":true},' +
        '{"node":2,"offset":4,"lag":0,"healthy":true},{"node":3,"offset":4,"lag":0,"healthy":true}],' +
        '"acks":"all","commitOffset":4,"startOffset":0}',
    ]);
    expect((await run(['list'])).out).toEqual([
      'NAME    EPOCH  LEADER  ACKS  REPLICAS',
      'events  1      1       all   1,2,3',
    ]);
    expect((await run(['delete', 'events'])).out).toEqual(['deleted events']);
    expect(JSON.parse((await run(['list', '--json'])).out[0] ?? '')).toEqual([]);
  });

  it('tail prints history from --from and follows new records, until --count or the stop signal', async () => {
    await run(['create', 'tailed', '--replicas', '1']);
    await run(['append', 'tailed', 'h0', 'h1']);
    const counted = await run(['tail', 'tailed', '--from', '0', '--count', '2']);
    expect(counted).toEqual({ code: 0, out: ['0\th0', '1\th1'], err: [] });

    // Without --from, only records committed from now on.
    const stop = new AbortController();
    const following = run(['tail', 'tailed', '--json'], {
      signal: stop.signal,
      onOut: () => stop.abort(),
    });
    await until(() => backend.openSubscriptions === 1, 'tail to subscribe');
    await run(['append', 'tailed', 'live']);
    const result = await following;
    expect(result.code).toBe(0);
    expect(result.out.map((line) => JSON.parse(line).payload)).toEqual(['live']);
    await until(() => backend.openSubscriptions === 0, 'the subscription to end');
  });

  it('reports operating errors with their code (exit 1) and bad command lines with usage (exit 2)', async () => {
    const missing = await run(['status', 'nope']);
    expect(missing.code).toBe(1);
    expect(missing.err[0]).toMatch(/^meshos: CHAIN_NOT_FOUND: .*chain nope does not exist$/);
    const noReplicas = await run(['create', 'x']);
    expect([noReplicas.code, noReplicas.err[0]]).toEqual([
      2,
      'meshos: --replicas N (at least 1) is required',
    ]);
    const noData = await run(['append', 'x']);
    expect(noData.code).toBe(2);
    const unknown = await run(['frobnicate']);
    expect([unknown.code, unknown.err[0]]).toEqual([2, "meshos: unknown chain subcommand 'frobnicate'"]);
  });
});
