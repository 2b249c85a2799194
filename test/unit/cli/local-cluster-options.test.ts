import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { UsageError } from '../../../src/cli/commands/common.js';
import { localClusterOptions, localClusterPlan } from '../../../src/cli/local-cluster.js';
import {
  LOCAL_CLUSTER_RECORD_VERSION,
  type LocalClusterRecord,
  localClusterRecordPath,
  processIsRunning,
  readLocalClusterRecord,
  writeLocalClusterRecord,
} from '../../../src/cli/local-cluster-record.js';
import { thrownCode } from '../../support/error-code.js';

describe('meshos start-local options', () => {
  it('defaults to ./.meshos, etcd-like ports and the demo', () => {
    const options = localClusterOptions([]);
    expect(options).toEqual({ root: path.resolve('.meshos'), defaultRoot: true, portOffset: 0, demo: true });
    expect(localClusterPlan(options.root, 3, options.portOffset)[0]?.client).toBe('127.0.0.1:2379');
  });

  it('takes a data folder, a base port that moves every node port, and --no-demo', () => {
    const options = localClusterOptions(['--data', '/tmp/x', '--base-port', '3379', '--no-demo']);
    expect(options).toEqual({ root: '/tmp/x', defaultRoot: false, portOffset: 1000, demo: false });
    expect(localClusterPlan(options.root, 3, options.portOffset).map((plan) => plan.admin)).toEqual([
      '127.0.0.1:3381',
      '127.0.0.1:3481',
      '127.0.0.1:3581',
    ]);
  });

  it('refuses a base port whose last node would pass 65535, and stray arguments', () => {
    expect(() => localClusterOptions(['--base-port', '65400'])).toThrow(UsageError);
    expect(() => localClusterOptions(['--base-port', 'abc'])).toThrow(UsageError);
    expect(() => localClusterOptions(['extra'])).toThrow(UsageError);
    expect(() => localClusterOptions(['--demo'])).toThrow(UsageError);
  });
});

describe('the local cluster record', () => {
  let root = '';
  afterEach(async () => {
    if (root !== '') await rm(root, { recursive: true, force: true });
  });

  const record: LocalClusterRecord = {
    version: LOCAL_CLUSTER_RECORD_VERSION,
    launcherPid: process.pid,
    clusterId: 'meshos-local',
    nodes: [
      {
        id: 1,
        pid: 0,
        client: '127.0.0.1:2379',
        peer: '127.0.0.1:2380',
        admin: '127.0.0.1:2381',
        data: 'd1',
      },
    ],
  };

  it('reads back what was written', async () => {
    root = await mkdtemp(path.join(os.tmpdir(), 'meshos-record-'));
    writeLocalClusterRecord(root, record);
    expect(readLocalClusterRecord(root)).toEqual(record);
  });

  it('refuses a missing or malformed record with LOCAL_CLUSTER_UNKNOWN', async () => {
    root = await mkdtemp(path.join(os.tmpdir(), 'meshos-record-'));
    expect(thrownCode(() => readLocalClusterRecord(root))).toBe('LOCAL_CLUSTER_UNKNOWN');
    for (const bad of [
      '{',
      '[]',
      JSON.stringify({ ...record, version: 2 }),
      JSON.stringify({ ...record, nodes: [] }),
    ]) {
      await writeFile(localClusterRecordPath(root), bad);
      expect(
        thrownCode(() => readLocalClusterRecord(root)),
        bad,
      ).toBe('LOCAL_CLUSTER_UNKNOWN');
    }
    await writeFile(
      localClusterRecordPath(root),
      JSON.stringify({ ...record, nodes: [{ ...record.nodes[0], pid: -1 }] }),
    );
    expect(() => readLocalClusterRecord(root)).toThrow(/nodes\[0\]\.pid/);
  });

  it('tells a running process from none', () => {
    expect(processIsRunning(process.pid)).toBe(true);
    expect(processIsRunning(0)).toBe(false);
  });
});
