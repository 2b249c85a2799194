import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { kvCommand, memberCommand, snapshotCommand, statusCommand } from '../../../src/cli/commands/index.js';
import { parseTxnScript } from '../../../src/cli/commands/txn-syntax.js';
import { MeshClient } from '../../../src/client/index.js';
import { startTestNode, type TestNode } from './cluster-fixture.js';

interface Captured {
  readonly out: string[];
  readonly err: string[];
  readonly io: {
    out: (line: string) => void;
    err: (line: string) => void;
    readInput?: () => Promise<string>;
    signal?: AbortSignal;
  };
}

function capture(extra: { input?: string; signal?: AbortSignal } = {}): Captured {
  const out: string[] = [];
  const err: string[] = [];
  return {
    out,
    err,
    io: {
      out: (line) => out.push(line),
      err: (line) => err.push(line),
      ...(extra.input === undefined ? {} : { readInput: async () => extra.input ?? '' }),
      ...(extra.signal === undefined ? {} : { signal: extra.signal }),
    },
  };
}

describe('client-side CLI commands', () => {
  let node: TestNode;
  let endpoints: string[];

  beforeAll(async () => {
    node = await startTestNode({ memberId: 0xabc });
    endpoints = ['--endpoints', node.address];
  });

  afterAll(async () => {
    await node.stop();
  });

  async function run(
    handler: typeof kvCommand,
    argv: string[],
    extra: { input?: string; signal?: AbortSignal } = {},
  ): Promise<{ code: number; out: string[]; err: string[] }> {
    const captured = capture(extra);
    const code = await handler([...argv, ...endpoints], captured.io);
    return { code, out: captured.out, err: captured.err };
  }

  it('puts, gets (plain and JSON) and deletes', async () => {
    expect(await run(kvCommand, ['put', 'cli/a', 'first'])).toEqual({ code: 0, out: ['OK'], err: [] });
    await run(kvCommand, ['put', 'cli/b', 'second value']);
    expect((await run(kvCommand, ['get', 'cli/a'])).out).toEqual(['cli/a', 'first']);
    expect((await run(kvCommand, ['get', 'cli/', '--prefix', '--serializable'])).out).toEqual([
      'cli/a',
      'first',
      'cli/b',
      'second value',
    ]);
    const json = await run(kvCommand, ['get', 'cli/', '--prefix', '--json']);
    const parsed = JSON.parse(json.out[0] ?? '{}') as {
      count: number;
      kvs: { key: string; value: string; version: number }[];
    };
    expect(parsed.count).toBe(2);
    expect(parsed.kvs.map((kv) => [kv.key, kv.value, kv.version])).toEqual([
      ['cli/a', 'first', 1],
      ['cli/b', 'second value', 1],
    ]);
    expect((await run(kvCommand, ['get', 'cli/missing'])).out).toEqual([]);
    expect((await run(kvCommand, ['del', 'cli/', '--prefix'])).out).toEqual(['2']);
    expect((await run(kvCommand, ['del', 'cli/a'])).out).toEqual(['0']);
  });

  it('puts with a lease', async () => {
    const client = await MeshClient.connect({ endpoints: [node.address] });
    try {
      const lease = await client.leaseGrant(60);
      expect((await run(kvCommand, ['put', 'cli/leased', 'v', '--lease', String(lease.id)])).code).toBe(0);
      expect((await client.get('cli/leased'))?.lease).toBe(lease.id);
      const missing = await run(kvCommand, ['put', 'cli/leased', 'v', '--lease', '999999']);
      expect(missing.code).toBe(1);
      expect(missing.err[0]).toContain('KV_LEASE_NOT_FOUND');
    } finally {
      client.close();
    }
  });

  it('runs a transaction read from stdin', async () => {
    await run(kvCommand, ['put', 'cli/txn', 'old']);
    const script = [
      'value("cli/txn") = "old"',
      '',
      'put cli/txn "new value"',
      'get cli/txn',
      '',
      'get cli/txn',
      '',
    ].join('\n');
    const won = await run(kvCommand, ['txn'], { input: script });
    expect(won).toEqual({ code: 0, out: ['SUCCESS', '', 'OK', '', 'cli/txn', 'new value'], err: [] });
    const lost = await run(kvCommand, ['txn'], { input: script });
    expect(lost.out).toEqual(['FAILURE', '', 'cli/txn', 'new value']);
    const bad = await run(kvCommand, ['txn'], { input: 'size("k") = "1"\n' });
    expect(bad.code).toBe(2);
    expect(bad.err[0]).toContain('unknown compare target');
  });

  it('watches until the count is reached', async () => {
    const client = await MeshClient.connect({ endpoints: [node.address] });
    try {
      const first = await client.put('cli/w', '1');
      await client.put('cli/w', '2');
      const watched = await run(kvCommand, [
        'watch',
        'cli/w',
        '--rev',
        String(first.header.revision),
        '--count',
        '2',
      ]);
      expect(watched).toEqual({ code: 0, out: ['PUT', 'cli/w', '1', 'PUT', 'cli/w', '2'], err: [] });
    } finally {
      client.close();
    }
  });

  it('stops a watch when its signal aborts', async () => {
    const controller = new AbortController();
    controller.abort();
    const watched = await run(kvCommand, ['watch', 'cli/never'], { signal: controller.signal });
    expect(watched).toEqual({ code: 0, out: [], err: [] });
  });

  it('lists, adds, promotes and removes members', async () => {
    const listed = await run(memberCommand, ['list']);
    expect(listed).toEqual({ code: 0, out: ['abc, started, local, , , false'], err: [] });
    const added = await run(memberCommand, ['add', 'http://127.0.0.1:23800', '--learner']);
    expect(added.code).toBe(0);
    expect(added.out[0]).toMatch(/^Member [0-9a-f]+ added as a learner$/);
    const id = /^Member ([0-9a-f]+)/.exec(added.out[0] ?? '')?.[1] ?? '';
    expect((await run(memberCommand, ['promote', id])).out).toEqual([`Member ${id} promoted`]);
    const json = JSON.parse((await run(memberCommand, ['list', '--json'])).out[0] ?? '{}') as {
      members: { id: string; isLearner: boolean }[];
    };
    expect(json.members.map((member) => [member.id, member.isLearner])).toEqual([
      ['abc', false],
      [id, false],
    ]);
    expect((await run(memberCommand, ['remove', id])).out).toEqual([`Member ${id} removed`]);
    const again = await run(memberCommand, ['remove', id]);
    expect(again.code).toBe(1);
    expect(again.err[0]).toContain('MEMBER_NOT_FOUND');
  });

  it('shows status per endpoint, and reports endpoints that do not answer', async () => {
    const status = await run(statusCommand, []);
    expect(status.code).toBe(0);
    expect(status.out[0]?.split(/\s{2,}/)).toEqual([
      'ENDPOINT',
      'ID',
      'LEADER',
      'TERM',
      'RAFT INDEX',
      'APPLIED',
      'REVISION',
      'LAG',
    ]);
    const backendStatus = await node.backend.status();
    expect(status.out[1]?.split(/\s+/)).toEqual([
      node.address,
      'abc',
      'abc',
      '1',
      String(backendStatus.raftIndex),
      String(backendStatus.raftAppliedIndex),
      String(backendStatus.revision),
      '0',
    ]);

    const gone = await startTestNode();
    await gone.stop();
    const captured = capture();
    const code = await statusCommand(['--endpoints', `${node.address},${gone.address}`], captured.io);
    expect(code).toBe(1);
    expect(captured.out).toHaveLength(3);
    expect(captured.out[2]).toContain('error: UNAVAILABLE');
    expect(captured.err[0]).toContain(gone.address);
  });

  it('saves a snapshot to a file with progress', async () => {
    const directory = await mkdtemp(join(tmpdir(), 'meshos-client-'));
    try {
      const file = join(directory, 'state.snapshot');
      const saved = await run(snapshotCommand, ['save', file]);
      expect(saved.code).toBe(0);
      const written = await readFile(file);
      expect(saved.out).toEqual([`Snapshot saved at ${file} (${written.length} bytes)`]);
      expect(saved.err[saved.err.length - 1]).toBe(
        `snapshot: ${written.length} of ${written.length} bytes (100%)`,
      );
      const expected = await node.backend.snapshot();
      expect(written.subarray(0, expected.length).equals(Buffer.from(expected))).toBe(true);
    } finally {
      await rm(directory, { recursive: true, force: true });
    }
  });

  it('answers bad arguments with usage and exit code 2', async () => {
    const cases: Array<[typeof kvCommand, string[]]> = [
      [kvCommand, []],
      [kvCommand, ['frobnicate']],
      [kvCommand, ['get']],
      [kvCommand, ['put', 'only-key']],
      [kvCommand, ['get', 'k', '--bogus']],
      [kvCommand, ['watch', 'k', '--count', 'many']],
      [memberCommand, ['remove', 'not-hex']],
      [memberCommand, ['add']],
      [statusCommand, ['extra']],
      [snapshotCommand, ['save']],
      [snapshotCommand, ['load', 'file']],
    ];
    for (const [handler, argv] of cases) {
      const result = await run(handler, argv);
      expect({ argv, code: result.code }).toEqual({ argv, code: 2 });
      expect(result.err.some((line) => line.startsWith('usage:'))).toBe(true);
      expect(result.out).toEqual([]);
    }
  });
});

describe('txn script syntax', () => {
  it('reads compares, success and failure sections', () => {
    const request = parseTxnScript(
      [
        'mod("a") > "3"',
        'version(b) = 0',
        'value("c d") != "x \\"y\\""',
        '',
        'put a "1 2" --lease=0x10',
        'del p --prefix',
        '',
        'get a --prefix',
      ].join('\n'),
    );
    expect(request).toEqual({
      compare: [
        { key: 'a', target: 'mod', operator: '>', operand: 3 },
        { key: 'b', target: 'version', operator: '=', operand: 0 },
        { key: 'c d', target: 'value', operator: '!=', operand: 'x "y"' },
      ],
      success: [
        { type: 'put', key: 'a', value: '1 2', options: { lease: 16 } },
        { type: 'delete', key: 'p', options: { prefix: true } },
      ],
      failure: [{ type: 'range', key: 'a', options: { prefix: true } }],
    });
  });

  it('names the line of a mistake', () => {
    expect(() => parseTxnScript('value("a") = "1"\n\nput a\n')).toThrow(/line 3/);
    expect(() => parseTxnScript('mod("a") > "x"\n')).toThrow(/line 1: mod compares need a number/);
    expect(() => parseTxnScript('\n\nfetch a\n')).toThrow(/line 3: unknown operation/);
  });
});
