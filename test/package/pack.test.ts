/**
 * The package as a user gets it: `npm pack` of the built tree, installed into an empty
 * project, imported as `meshos` by plain ESM (a one-node cluster started in-process, a put and
 * a get through the client), typechecked against its declarations, and its `meshos` bin run.
 */
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
/** npm pack and npm install (from the npm cache) each get this long. */
const NPM_COMMAND_TIMEOUT_MS = 90_000;
/** The check script (node start, put, get, stop) and the typecheck each get this long. */
const CHECK_TIMEOUT_MS = 30_000;
const REPOSITORY = path.resolve('.');

const CHECK_SCRIPT = `
import { mkdtempSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { bytesToText, findFreeLoopbackPort, formatAddress, isMeshError, MeshClient, MeshError, NodeBuilder } from 'meshos';

const peer = { host: '127.0.0.1', port: await findFreeLoopbackPort() };
const node = await new NodeBuilder({
  id: 1,
  name: 'n1',
  clusterId: 'pack-check',
  dataDirectory: mkdtempSync(path.join(os.tmpdir(), 'meshos-pack-node-')),
  peerAddress: peer,
  clientAddress: { host: '127.0.0.1', port: 0 },
  adminAddress: { host: '127.0.0.1', port: 0 },
  initialPeers: new Map([[1, peer]]),
  insecure: true,
}).start();
await node.waitReady(10_000);
const client = await MeshClient.connect({ endpoints: [formatAddress(node.endpoints.client)] });
await client.put('pack/greeting', 'hello from the tarball');
const entry = await client.get('pack/greeting');
client.close();
await node.stop();
console.log(JSON.stringify({
  value: entry === undefined ? null : bytesToText(entry.value),
  typedErrors: isMeshError(new MeshError('X', 'x'), 'X'),
}));
`;

const TYPES_CHECK = `
import { MeshClient, type MeshClientOptions, type MeshNodeConfig, NodeBuilder } from 'meshos';

const options: MeshClientOptions = { endpoints: ['127.0.0.1:2379'], timeoutMs: 1_000 };
export async function use(config: MeshNodeConfig): Promise<string> {
  const node = await new NodeBuilder(config).start();
  const client = await MeshClient.connect(options);
  const entry = await client.get('key');
  await node.stop();
  return entry === undefined ? '' : new TextDecoder().decode(entry.value);
}
`;

const TYPES_TSCONFIG = {
  compilerOptions: {
    module: 'NodeNext',
    moduleResolution: 'NodeNext',
    target: 'ES2023',
    strict: true,
    noEmit: true,
    skipLibCheck: true,
    types: [],
  },
  files: ['check-types.ts'],
};

describe('the packed meshos package', () => {
  const temporaries: string[] = [];
  afterAll(async () => {
    await Promise.all(temporaries.map((directory) => rm(directory, { recursive: true, force: true })));
  });

  it('runs as `npx meshos` in the repository itself, as the README quick start does', async () => {
    // The built bin must be executable: npm runs the project's own bin straight from dist/.
    const version = await run('npx', ['--no-install', 'meshos', 'version'], {
      cwd: REPOSITORY,
      timeout: CHECK_TIMEOUT_MS,
    });
    expect(version.stdout).toMatch(/\d+\.\d+\.\d+/);
  });

  it('installs from its tarball, imports as meshos, runs a node and its client, and ships its bin', async () => {
    const root = await mkdtemp(path.join(os.tmpdir(), 'meshos-pack-'));
    temporaries.push(root);
    // dist/ is built by pretest; the tarball takes it as it is.
    const packed = await run('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', root], {
      cwd: REPOSITORY,
      timeout: NPM_COMMAND_TIMEOUT_MS,
    });
    const [summary] = JSON.parse(packed.stdout) as [{ filename: string; files: { path: string }[] }];
    const files = summary.files.map((file) => file.path);
    expect(files).toEqual(
      expect.arrayContaining([
        'package.json',
        'dist/src/index.js',
        'dist/src/index.d.ts',
        'dist/src/cli/main.js',
      ]),
    );
    expect(
      files.filter(
        (file) =>
          !file.startsWith('dist/src/') &&
          !file.startsWith('dist/deck/') &&
          file !== 'package.json' &&
          file !== 'README.md',
      ),
    ).toEqual([]);

    const project = path.join(root, 'project');
    await mkdir(project);
    await writeFile(
      path.join(project, 'package.json'),
      JSON.stringify({ name: 'meshos-pack-check', private: true, type: 'module' }),
    );
    await run(
      'npm',
      ['install', '--prefer-offline', '--no-audit', '--no-fund', path.join(root, summary.filename)],
      { cwd: project, timeout: NPM_COMMAND_TIMEOUT_MS },
    );

    await writeFile(path.join(project, 'check.mjs'), CHECK_SCRIPT);
    const checked = await run(process.execPath, ['check.mjs'], { cwd: project, timeout: CHECK_TIMEOUT_MS });
    expect(JSON.parse(checked.stdout)).toEqual({ value: 'hello from the tarball', typedErrors: true });

    await writeFile(path.join(project, 'check-types.ts'), TYPES_CHECK);
    await writeFile(path.join(project, 'tsconfig.json'), JSON.stringify(TYPES_TSCONFIG));
    await run(path.join(REPOSITORY, 'node_modules/.bin/tsc'), ['-p', '.'], {
      cwd: project,
      timeout: CHECK_TIMEOUT_MS,
    });

    const version = await run(path.join(project, 'node_modules/.bin/meshos'), ['version'], {
      cwd: project,
      timeout: CHECK_TIMEOUT_MS,
    });
    const { version: packageVersion } = JSON.parse(await readFile('package.json', 'utf8')) as {
      version: string;
    };
    expect(version.stdout.trim()).toBe(packageVersion);
  }, 240_000);
});
