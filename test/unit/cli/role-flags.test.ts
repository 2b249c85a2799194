import { mkdtemp, writeFile } from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { UsageError } from '../../../src/cli/commands/common.js';
import { startPlanFromArguments } from '../../../src/cli/node-commands.js';
import { machineCapacity } from '../../../src/cli/role-flags.js';
import { MAX_DAEMON_MODULES } from '../../../src/daemons/index.js';
import { DEFAULT_NODE_LEASE_TTL_SECONDS } from '../../../src/mesh/index.js';
import { flagProblems } from './start-flag-problems.js';

const VOTER = ['--id', '2', '--data', 'd2', '--peers', '1=127.0.0.1:7001,2=127.0.0.1:7002', '--insecure'];
const WORKER = [
  '--role',
  'worker',
  '--control-plane',
  '127.0.0.1:2379,127.0.0.1:2479',
  '--data',
  'w',
  '--peer-listen',
  '127.0.0.1:7100',
  '--insecure',
];

describe('meshos start --role', () => {
  it('runs a voter by default, registering with the default lease and the machine capacity', () => {
    const plan = startPlanFromArguments(VOTER);
    expect(plan.role).toBe('voter');
    if (plan.role !== 'voter') return;
    expect(plan.config.id).toBe(2);
    expect(plan.config.clientAddress).toEqual({ host: '127.0.0.1', port: 2379 });
    expect(plan.config.membership).toEqual({
      zone: '',
      capacity: machineCapacity(),
      leaseTtlSeconds: DEFAULT_NODE_LEASE_TTL_SECONDS,
    });
  });

  it('builds a worker from its control-plane endpoints, with no id until one is allocated', () => {
    const plan = startPlanFromArguments([
      ...WORKER,
      '--zone',
      'rack-7',
      '--capacity',
      'cpus=4,daemons=100',
      '--node-lease-ttl',
      '9',
    ]);
    expect(plan.role).toBe('worker');
    if (plan.role !== 'worker') return;
    expect(plan.config.controlPlaneEndpoints).toEqual(['127.0.0.1:2379', '127.0.0.1:2479']);
    expect(plan.config.dataDirectory).toBe(path.resolve('w'));
    expect(plan.config.peerAddress).toEqual({ host: '127.0.0.1', port: 7100 });
    expect(plan.config.clientAddress).toEqual({ host: '127.0.0.1', port: 2379 });
    expect(plan.config.adminAddress).toEqual({ host: '127.0.0.1', port: 2381 });
    expect(plan.config.membership).toEqual({
      zone: 'rack-7',
      capacity: { cpus: 4, daemons: 100 },
      leaseTtlSeconds: 9,
    });
    expect('id' in plan.config).toBe(false);
  });

  it('takes TLS files for an https control plane, and refuses a certificate without its key or CA', () => {
    const plan = startPlanFromArguments([
      ...WORKER,
      '--control-plane-cacert',
      'ca.pem',
      '--control-plane-cert',
      'client.pem',
      '--control-plane-key',
      'client-key.pem',
    ]);
    if (plan.role !== 'worker') throw new Error('expected a worker');
    expect(plan.config.controlPlaneTls).toEqual({
      caFile: path.resolve('ca.pem'),
      certificateFile: path.resolve('client.pem'),
      keyFile: path.resolve('client-key.pem'),
    });
    expect(
      flagProblems([...WORKER, '--control-plane-cacert', 'ca.pem', '--control-plane-cert', 'c.pem']),
    ).toEqual(['--control-plane-cert and --control-plane-key go together']);
    expect(
      flagProblems([...WORKER, '--control-plane-cert', 'c.pem', '--control-plane-key', 'k.pem']),
    ).toEqual(['--control-plane-cert/--control-plane-key need --control-plane-cacert']);
  });

  it('refuses an unknown role', () => {
    expect(flagProblems([...VOTER, '--role', 'observer'])).toEqual([
      "--role must be voter or worker, got 'observer'",
    ]);
  });

  it('refuses voter flags on a worker and names every one at once', () => {
    const problems = flagProblems([...WORKER, '--id', '7', '--peers', '7=127.0.0.1:1', '--wal-thread-pool']);
    expect(problems).toHaveLength(3);
    expect(problems.join('\n')).toMatch(/--id is for voters/);
    expect(problems.join('\n')).toMatch(/--peers is for voters/);
    expect(problems.join('\n')).toMatch(/--wal-thread-pool is for voters/);
  });

  it('gives a worker a client port (--client-listen), as a voter has', () => {
    const plan = startPlanFromArguments([...WORKER, '--client-listen', '127.0.0.1:7200']);
    if (plan.role !== 'worker') throw new Error('expected a worker');
    expect(plan.config.clientAddress).toEqual({ host: '127.0.0.1', port: 7200 });
    expect(flagProblems([...WORKER, '--client-listen', 'nowhere'])[0]).toMatch(/^--client-listen: /);
  });

  it('refuses a worker without a control plane, data directory or peer address', () => {
    const problems = flagProblems(['--role', 'worker', '--insecure']);
    expect(problems).toEqual([
      '--data DIR is required',
      '--peer-listen H:P is required for a worker',
      '--control-plane H:P,... is required for a worker',
    ]);
  });

  it('refuses a control plane on a voter: a voter is the control plane', () => {
    expect(flagProblems([...VOTER, '--control-plane', '127.0.0.1:2379'])[0]).toMatch(
      /--control-plane is for workers/,
    );
    expect(flagProblems([...VOTER, '--control-plane-user', 'worker'])).toEqual([
      '--control-plane-user is for workers (--role worker); a voter is the control plane',
    ]);
  });

  it("takes the worker's control-plane user with its password from a file, never on the command line", async () => {
    const directory = await mkdtemp(path.join(os.tmpdir(), 'meshos-flags-'));
    const passwordFile = path.join(directory, 'password');
    await writeFile(passwordFile, 'secret\n');
    const plan = startPlanFromArguments([
      ...WORKER,
      '--control-plane-user',
      'worker',
      '--control-plane-password-file',
      passwordFile,
    ]);
    if (plan.role !== 'worker') throw new Error('expected a worker');
    expect(plan.config.controlPlaneCredentials).toEqual({ user: 'worker', passwordFile });
    expect(flagProblems([...WORKER, '--control-plane-user', 'worker'])).toEqual([
      '--control-plane-user needs --control-plane-password-file FILE (the password, first line)',
    ]);
    expect(flagProblems([...WORKER, '--control-plane-password-file', passwordFile])).toEqual([
      '--control-plane-password-file needs --control-plane-user',
    ]);
    const missing = path.join(directory, 'missing');
    expect(
      flagProblems([
        ...WORKER,
        '--control-plane-user',
        'worker:secret',
        '--control-plane-password-file',
        missing,
      ]),
    ).toEqual([
      "--control-plane-user must be a user name (the password goes in --control-plane-password-file), got 'worker:secret'",
      `--control-plane-password-file: cannot read ${missing} (ENOENT)`,
    ]);
  });

  it('refuses malformed endpoints, capacities and lease TTLs', () => {
    const problems = flagProblems([
      ...WORKER.map((argument) => (argument === '127.0.0.1:2379,127.0.0.1:2479' ? 'nohost' : argument)),
      '--capacity',
      'cpus=four,memory=-1',
      '--node-lease-ttl',
      '1',
    ]);
    expect(problems.join('\n')).toMatch(/--control-plane: .*nohost/);
    expect(problems.join('\n')).toMatch(/'cpus=four' is not RESOURCE=N/);
    expect(problems.join('\n')).toMatch(/'memory=-1' is not RESOURCE=N/);
    expect(problems.join('\n')).toMatch(/--node-lease-ttl must be whole seconds from 2 to 3600, got '1'/);
    expect(flagProblems([...VOTER, '--node-lease-ttl', '5s'])[0]).toMatch(/got '5s'/);
  });

  it('takes the chain repair grace period on both roles, absent unless given, and refuses one out of range', () => {
    const voter = startPlanFromArguments(VOTER);
    expect(voter.config.chainRepairGraceMs).toBeUndefined();
    expect(
      startPlanFromArguments([...VOTER, '--chain-repair-grace-ms', '5000']).config.chainRepairGraceMs,
    ).toBe(5_000);
    expect(
      startPlanFromArguments([...WORKER, '--chain-repair-grace-ms', '2500']).config.chainRepairGraceMs,
    ).toBe(2_500);
    expect(flagProblems([...VOTER, '--chain-repair-grace-ms', '999'])[0]).toMatch(
      /--chain-repair-grace-ms: .*from 1000 to 604800000, got 999/,
    );
    expect(flagProblems([...WORKER, '--chain-repair-grace-ms', '5s'])[0]).toMatch(/'5s'/);
  });

  it('takes the daemon repair grace period on both roles, absent unless given, and refuses one out of range', () => {
    expect(startPlanFromArguments(VOTER).config.daemonRepairGraceMs).toBeUndefined();
    expect(
      startPlanFromArguments([...VOTER, '--daemon-repair-grace-ms', '4000']).config.daemonRepairGraceMs,
    ).toBe(4_000);
    expect(
      startPlanFromArguments([...WORKER, '--daemon-repair-grace-ms', '1500']).config.daemonRepairGraceMs,
    ).toBe(1_500);
    expect(flagProblems([...VOTER, '--daemon-repair-grace-ms', '999'])[0]).toMatch(
      /--daemon-repair-grace-ms: .*from 1000 to 604800000, got 999/,
    );
    expect(flagProblems([...WORKER, '--daemon-repair-grace-ms', 'soon'])[0]).toMatch(/'soon'/);
  });
});

describe('meshos start --daemon-module', () => {
  it('gives voters and workers the module paths, absolute and in order', () => {
    const modules = ['--daemon-module', 'kinds/a.mjs', '--daemon-module', '/opt/b.mjs'];
    const voter = startPlanFromArguments([...VOTER, ...modules]);
    const worker = startPlanFromArguments([...WORKER, ...modules]);
    for (const plan of [voter, worker]) {
      expect(plan.config.daemonModules).toEqual([path.resolve('kinds/a.mjs'), '/opt/b.mjs']);
    }
    expect('daemonModules' in startPlanFromArguments(VOTER).config).toBe(false);
  });
});

describe('meshos start --daemon-module limits', () => {
  it(`refuses more than ${MAX_DAEMON_MODULES} modules as a usage error`, () => {
    const modules = new Array(MAX_DAEMON_MODULES + 1).fill(['--daemon-module', 'm.mjs']).flat();
    expect(() => startPlanFromArguments([...VOTER, ...modules])).toThrow(UsageError);
    expect(() => startPlanFromArguments([...VOTER, ...modules])).toThrow(/at most 64/);
  });

  it('takes the blob orphan grace period on both roles, absent unless given, and refuses one out of range', () => {
    expect(startPlanFromArguments(VOTER).config.blobOrphanGraceMs).toBeUndefined();
    expect(
      startPlanFromArguments([...VOTER, '--blob-orphan-grace-ms', '3000']).config.blobOrphanGraceMs,
    ).toBe(3_000);
    expect(
      startPlanFromArguments([...WORKER, '--blob-orphan-grace-ms', '2000']).config.blobOrphanGraceMs,
    ).toBe(2_000);
    expect(flagProblems([...VOTER, '--blob-orphan-grace-ms', '999'])[0]).toMatch(
      /--blob-orphan-grace-ms: .*from 1000 to 86400000, got 999/,
    );
    expect(flagProblems([...WORKER, '--blob-orphan-grace-ms', 'later'])[0]).toMatch(/'later'/);
  });

  it('takes the daemon checkpoint interval on both roles, absent unless given, and refuses one out of range', () => {
    expect(startPlanFromArguments(VOTER).config.daemonCheckpointEvents).toBeUndefined();
    expect(
      startPlanFromArguments([...VOTER, '--daemon-checkpoint-events', '50']).config.daemonCheckpointEvents,
    ).toBe(50);
    expect(
      startPlanFromArguments([...WORKER, '--daemon-checkpoint-events', '200']).config.daemonCheckpointEvents,
    ).toBe(200);
    expect(flagProblems([...VOTER, '--daemon-checkpoint-events', '9'])[0]).toMatch(
      /--daemon-checkpoint-events: .*from 10 to 1000000, got 9/,
    );
    expect(flagProblems([...VOTER, '--daemon-checkpoint-events', '1000001'])[0]).toMatch(/got 1000001/);
    expect(flagProblems([...WORKER, '--daemon-checkpoint-events', '1e3'])[0]).toMatch(/'1e3'/);
  });

  it('takes the chain segment size on both roles, absent unless given, and refuses one out of range', () => {
    expect(startPlanFromArguments(VOTER).config.chainSegmentBytes).toBeUndefined();
    expect(startPlanFromArguments([...VOTER, '--chain-segment-bytes', '4096']).config.chainSegmentBytes).toBe(
      4_096,
    );
    expect(
      startPlanFromArguments([...WORKER, '--chain-segment-bytes', '1024']).config.chainSegmentBytes,
    ).toBe(1_024);
    expect(flagProblems([...VOTER, '--chain-segment-bytes', '1023'])[0]).toMatch(
      /--chain-segment-bytes: .*from 1024 to 1073741824, got 1023/,
    );
    expect(flagProblems([...WORKER, '--chain-segment-bytes', '16MiB'])[0]).toMatch(/'16MiB'/);
  });

  it('names every bad tuning flag at once', () => {
    const problems = flagProblems([
      ...VOTER,
      '--chain-segment-bytes',
      '0',
      '--daemon-checkpoint-events',
      'x',
    ]);
    expect(problems).toHaveLength(2);
    expect(problems.join('\n')).toMatch(/--daemon-checkpoint-events/);
    expect(problems.join('\n')).toMatch(/--chain-segment-bytes/);
  });
});
