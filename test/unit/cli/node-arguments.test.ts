import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { UsageError } from '../../../src/cli/commands/common.js';
import {
  LOCAL_AUTO_COMPACTION_MODE,
  LOCAL_AUTO_COMPACTION_RETENTION,
  localClusterPlan,
  NODE_PROCESS_V8_FLAGS,
  nodeArguments,
} from '../../../src/cli/local-cluster.js';
import { nodeConfigFromArguments } from '../../../src/cli/node-commands.js';
import { validateMeshNodeConfig } from '../../../src/mesh/index.js';

const BASE = ['--id', '2', '--data', 'd2', '--peers', '1=127.0.0.1:7001,2=127.0.0.1:7002', '--insecure'];

/** Largest new space (both semi-spaces, MB) a node process reaches while it keeps many objects. */
function largestNewSpaceMb(flags: readonly string[]): number {
  const script = `
    const v8 = require('node:v8');
    const kept = [];
    let largest = 0;
    for (let index = 0; index < 300000; index++) {
      kept.push({ index, text: 'x' + index });
      if (index % 1000 === 0) {
        const space = v8.getHeapSpaceStatistics().find((item) => item.space_name === 'new_space');
        largest = Math.max(largest, space.space_size);
      }
    }
    process.stdout.write(String(largest / 1048576));`;
  const child = spawnSync(process.execPath, [...flags, '-e', script], { encoding: 'utf8' });
  expect(child.status, child.stderr).toBe(0);
  return Number(child.stdout);
}

describe('the node processes npm start spawns', () => {
  it('run with a young generation capped at 4 MB per semi-space, which V8 otherwise grows past', () => {
    expect(largestNewSpaceMb(NODE_PROCESS_V8_FLAGS)).toBeLessThanOrEqual(2 * 4);
    expect(largestNewSpaceMb([])).toBeGreaterThan(2 * 4);
  });
});

describe('meshos start arguments', () => {
  it('builds the node configuration, writing the log inline unless asked otherwise', () => {
    const config = nodeConfigFromArguments(BASE);
    expect(config.id).toBe(2);
    expect(config.name).toBe('n2');
    expect(config.dataDirectory).toBe(path.resolve('d2'));
    expect(config.peerAddress).toEqual({ host: '127.0.0.1', port: 7002 });
    expect(config.initialPeers.size).toBe(2);
    expect(config.walOnThreadPool).toBeUndefined();
  });

  it('moves log writes to the thread pool with --wal-thread-pool', () => {
    expect(nodeConfigFromArguments([...BASE, '--wal-thread-pool']).walOnThreadPool).toBe(true);
  });

  it('refuses missing or malformed arguments with a usage error', () => {
    expect(() => nodeConfigFromArguments(BASE.filter((argument) => argument !== '--insecure'))).toThrow(
      UsageError,
    );
    for (const badId of ['x', '0', '1e3', '0x10', '9007199254740992']) {
      expect(() => nodeConfigFromArguments(['--id', badId, ...BASE.slice(2)])).toThrow(
        `--id must be a positive integer (a node id), got '${badId}'`,
      );
    }
    expect(() => nodeConfigFromArguments([...BASE, '--no-such-flag'])).toThrow();
  });

  it('reads the space quota and auto-compaction flags, off and etcd-sized unless given', () => {
    const defaults = nodeConfigFromArguments(BASE);
    expect(defaults.autoCompaction).toBeUndefined();
    expect(defaults.quotaBackendBytes).toBeUndefined();
    const config = nodeConfigFromArguments([
      ...BASE,
      '--quota-backend-bytes',
      '1048576',
      '--auto-compaction-mode',
      'revision',
      '--auto-compaction-retention',
      '5000',
    ]);
    expect(config.quotaBackendBytes).toBe(1_048_576);
    expect(config.autoCompaction).toEqual({ mode: 'revision', retention: 5_000 });
    expect(nodeConfigFromArguments([...BASE, '--auto-compaction-retention', '90s']).autoCompaction).toEqual({
      mode: 'periodic',
      retention: 90_000,
    });
    expect(defaults.snapshotCount).toBeUndefined();
    expect(nodeConfigFromArguments([...BASE, '--snapshot-count', '5000']).snapshotCount).toBe(5_000);
    expect(() => nodeConfigFromArguments([...BASE, '--snapshot-count', '0'])).toThrow(/--snapshot-count/);
    expect(() => nodeConfigFromArguments([...BASE, '--snapshot-count', '1e5'])).toThrow(UsageError);
    expect(() => validateMeshNodeConfig({ ...defaults, snapshotCount: 20_000_000 })).toThrow(/snapshotCount/);
    expect(() => nodeConfigFromArguments([...BASE, '--quota-backend-bytes', '2GB'])).toThrow(UsageError);
    expect(() => nodeConfigFromArguments([...BASE, '--auto-compaction-retention', 'often'])).toThrow(
      /duration like 30s/,
    );
    expect(() => validateMeshNodeConfig({ ...defaults, quotaBackendBytes: 16 * 1024 ** 3 })).toThrow(
      /quotaBackendBytes/,
    );
  });

  it('starts the local cluster with auto-compaction on', () => {
    const plans = localClusterPlan('/tmp/meshos-local');
    const args = nodeArguments(plans[0]!, plans, '/tmp/meshos-local/certs');
    expect(args[0]).toBe('start');
    const config = nodeConfigFromArguments(args.slice(1));
    expect([LOCAL_AUTO_COMPACTION_MODE, LOCAL_AUTO_COMPACTION_RETENTION]).toEqual(['periodic', '1m']);
    expect(config.autoCompaction).toEqual({ mode: 'periodic', retention: 60_000 });
  });
});
