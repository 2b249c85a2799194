/** `meshos snapshot status|restore` on files: flags, output and refusals (save is in the cluster tests). */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXIT_FAILED, EXIT_OK, EXIT_USAGE } from '../../../src/cli/commands/common.js';
import { snapshotCommand } from '../../../src/cli/commands/snapshot.js';
import { sealSnapshot } from '../../../src/protocol/index.js';
import { encodeNodeCommand, NodeStateMachine } from '../../../src/server/index.js';

const INITIAL_CLUSTER = '1=127.0.0.1:5001,2=http://127.0.0.1:5002,3=127.0.0.1:5003';

let scratch: string;
let file: string;

async function run(argv: string[]): Promise<{ code: number; out: string[]; err: string[] }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await snapshotCommand(argv, { out: (line) => out.push(line), err: (line) => err.push(line) });
  return { code, out, err };
}

beforeAll(async () => {
  scratch = await mkdtemp(path.join(os.tmpdir(), 'meshos-snapshot-command-'));
  const machine = new NodeStateMachine();
  for (let index = 1; index <= 4; index++) {
    const command = { type: 'put' as const, key: Buffer.from(`k${index}`), value: Buffer.from('v') };
    machine.apply({ term: 2, index, kind: 'normal', data: encodeNodeCommand({ type: 'kv', command }) });
  }
  file = path.join(scratch, 'backup.db');
  await writeFile(file, sealSnapshot(machine.snapshot()));
});

afterAll(async () => {
  await rm(scratch, { recursive: true, force: true });
});

describe('meshos snapshot status', () => {
  it('prints what the file holds, as text and as JSON', async () => {
    const text = await run(['status', file]);
    expect(text.code).toBe(EXIT_OK);
    expect(text.out).toContain('sha256:           ok');
    expect(text.out).toContain('keys:             4');
    const json = await run(['status', file, '--json']);
    expect(JSON.parse(json.out[0] ?? '')).toMatchObject({
      revision: 5,
      keys: 4,
      raftIndex: 4,
      hashChecked: true,
    });
  });
});

describe('meshos snapshot restore', () => {
  const restore = (data: string, ...extra: string[]) =>
    run([
      'restore',
      file,
      '--data',
      path.join(scratch, data),
      '--initial-cluster',
      INITIAL_CLUSTER,
      ...extra,
    ]);

  it('restores with etcd’s flags, an http:// address included', async () => {
    const outcome = await restore(
      'ok',
      '--id',
      '2',
      '--initial-cluster-token',
      'new',
      '--initial-advertise-peer-urls',
      'http://127.0.0.1:5002',
      '--json',
    );
    expect(outcome.code, outcome.err.join('\n')).toBe(EXIT_OK);
    expect(JSON.parse(outcome.out[0] ?? '')).toMatchObject({
      id: 2,
      clusterId: 'new',
      raftIndex: 4,
      voters: [1, 2, 3],
    });
    const identity = JSON.parse(await readFile(path.join(scratch, 'ok', 'node.json'), 'utf8'));
    expect(identity).toMatchObject({ id: 2, name: 'n2', clusterId: 'new' });
  });

  it('refuses bad flags as usage errors, naming the problem', async () => {
    const cases: [string[], RegExp][] = [
      [['--id', '4'], /does not name member 4/],
      [['--id', 'x'], /--id must be a positive integer/],
      [['--id', '1', '--cluster', 'a', '--initial-cluster-token', 'b'], /disagree/],
      [['--id', '1', '--initial-advertise-peer-urls', 'http://127.0.0.1:9'], /is not member 1's address/],
    ];
    for (const [extra, problem] of cases) {
      const outcome = await restore('refused', ...extra);
      expect(outcome.code).toBe(EXIT_USAGE);
      expect(outcome.err[0]).toMatch(problem);
    }
    expect((await run(['restore', file, '--id', '1', '--initial-cluster', INITIAL_CLUSTER])).err[0]).toMatch(
      /needs --data/,
    );
  });

  it('refuses a corrupt file with SNAPSHOT_FILE_CORRUPT and writes nothing', async () => {
    const bytes = await readFile(file);
    bytes[bytes.length - 1] = (bytes[bytes.length - 1] ?? 0) ^ 1;
    const corrupt = path.join(scratch, 'corrupt.db');
    await writeFile(corrupt, bytes);
    const outcome = await run([
      'restore',
      corrupt,
      '--data',
      path.join(scratch, 'never'),
      '--id',
      '1',
      '--initial-cluster',
      INITIAL_CLUSTER,
    ]);
    expect(outcome.code).toBe(EXIT_FAILED);
    expect(outcome.err[0]).toMatch(/SNAPSHOT_FILE_CORRUPT: .*SHA-256 digest does not match/);
    await expect(readFile(path.join(scratch, 'never', 'node.json'))).rejects.toThrow();
  });
});
