import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../../src/lib/index.js';
import {
  type MeshNodeConfig,
  parsePeerList,
  validateMeshNodeConfig,
  validateWorkerNodeConfig,
  type WorkerNodeConfig,
} from '../../../src/mesh/index.js';

const loopback = (port: number) => ({ host: '127.0.0.1', port });

function config(overrides: Partial<MeshNodeConfig> = {}): MeshNodeConfig {
  return {
    id: 1,
    name: 'n1',
    clusterId: 'c',
    dataDirectory: '/tmp/n1',
    peerAddress: loopback(2380),
    clientAddress: loopback(2379),
    adminAddress: loopback(2381),
    initialPeers: new Map([[1, loopback(2380)]]),
    insecure: true,
    ...overrides,
  };
}

function problemsOf<Config>(
  candidate: Config,
  validate: (candidate: Config) => void = validateMeshNodeConfig as (candidate: Config) => void,
): readonly string[] {
  try {
    validate(candidate);
    return [];
  } catch (error) {
    expect(error).toBeInstanceOf(ValidationError);
    return (error as ValidationError).problems;
  }
}

describe('node configuration', () => {
  it('accepts a complete configuration, and port 0 for several listeners', () => {
    expect(problemsOf(config())).toEqual([]);
    expect(problemsOf(config({ clientAddress: loopback(0), adminAddress: loopback(0) }))).toEqual([]);
  });

  it('reports every problem at once', () => {
    const problems = problemsOf(
      config({ id: 0, clusterId: '', insecure: false, initialPeers: new Map([[2, loopback(2380)]]) }),
    );
    expect(problems).toHaveLength(4);
  });

  it('refuses two listeners on one fixed port even when a third asks for any port', () => {
    const problems = problemsOf(config({ clientAddress: loopback(2380), adminAddress: loopback(0) }));
    expect(problems).toEqual([
      'peer, client and admin addresses must differ: 127.0.0.1:2380, 127.0.0.1:2380',
    ]);
  });

  it('parses peer lists and names every bad item', () => {
    expect(parsePeerList('1=127.0.0.1:2380, 2=[::1]:2480')).toEqual(
      new Map([
        [1, loopback(2380)],
        [2, { host: '::1', port: 2480 }],
      ]),
    );
    expect(() => parsePeerList('x=1:2,3')).toThrow(/'x=1:2' is not id=host:port; '3' is not id=host:port/);
    expect(() => parsePeerList('0=h:1,1e3=h:2,9007199254740992=h:3')).toThrow(
      /'0=h:1' is not id=host:port; '1e3=h:2' is not id=host:port; '9007199254740992=h:3' is not id=host:port/,
    );
  });
});

describe('worker configuration', () => {
  const worker = (overrides: Partial<WorkerNodeConfig> = {}): WorkerNodeConfig => ({
    clusterId: 'c',
    dataDirectory: '/tmp/w1',
    peerAddress: loopback(2390),
    clientAddress: loopback(2391),
    adminAddress: loopback(2392),
    controlPlaneEndpoints: ['127.0.0.1:2379'],
    membership: { zone: '', capacity: {}, leaseTtlSeconds: 5 },
    insecure: true,
    ...overrides,
  });

  it('accepts a complete configuration', () => {
    expect(problemsOf(worker(), validateWorkerNodeConfig)).toEqual([]);
  });

  it('checks its listeners and chain repair grace period as a voter does', () => {
    expect(
      problemsOf(
        worker({ peerAddress: loopback(0), adminAddress: loopback(2391) }),
        validateWorkerNodeConfig,
      ),
    ).toEqual(['peer, client and admin addresses must differ: 127.0.0.1:2391, 127.0.0.1:2391']);
    const graceProblems = problemsOf(worker({ chainRepairGraceMs: 5 }), validateWorkerNodeConfig);
    expect(graceProblems).toHaveLength(1);
    expect(graceProblems[0]).toContain('chain repair grace period');
    expect(problemsOf(config({ chainRepairGraceMs: 5 }))).toEqual(graceProblems);
    const daemonGraceProblems = problemsOf(worker({ daemonRepairGraceMs: 5 }), validateWorkerNodeConfig);
    expect(daemonGraceProblems).toHaveLength(1);
    expect(daemonGraceProblems[0]).toContain('daemon repair grace period');
    expect(problemsOf(config({ daemonRepairGraceMs: 5 }))).toEqual(daemonGraceProblems);
  });

  it('checks the daemon checkpoint interval and the chain segment size as a voter does', () => {
    const checkpointProblems = problemsOf(worker({ daemonCheckpointEvents: 0 }), validateWorkerNodeConfig);
    expect(checkpointProblems).toEqual([
      'the daemon checkpoint interval must be whole records from 10 to 1000000, got 0',
    ]);
    expect(problemsOf(config({ daemonCheckpointEvents: 0 }))).toEqual(checkpointProblems);
    const segmentProblems = problemsOf(worker({ chainSegmentBytes: 1.5e9 }), validateWorkerNodeConfig);
    expect(segmentProblems).toEqual([
      'the chain segment size must be whole bytes from 1024 to 1073741824, got 1500000000',
    ]);
    expect(problemsOf(config({ chainSegmentBytes: 1.5e9 }))).toEqual(segmentProblems);
    expect(problemsOf(config({ daemonCheckpointEvents: 10, chainSegmentBytes: 1024 }))).toEqual([]);
  });
});
