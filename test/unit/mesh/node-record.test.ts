import { describe, expect, it } from 'vitest';
import {
  MAX_CAPACITY_RESOURCES,
  MAX_ZONE_CHARACTERS,
  type NodeRecord,
  NodeRecordError,
  readNodeRecord,
  validateNodeRecord,
} from '../../../src/mesh/index.js';

const WORKER: NodeRecord = {
  id: 1_000_001,
  name: 'w1000001',
  role: 'worker',
  addresses: { peer: '127.0.0.1:7100', admin: '127.0.0.1:7101' },
  zone: 'rack-1',
  capacity: { cpus: 2, memoryBytes: 4_294_967_296 },
  version: '0.1.0',
  startedAt: 1_764_900_000_000,
};

function problemsOf(value: unknown): readonly string[] {
  try {
    readNodeRecord(value);
  } catch (error) {
    expect(error).toBeInstanceOf(NodeRecordError);
    expect((error as NodeRecordError).code).toBe('BAD_NODE_RECORD');
    return (error as NodeRecordError).problems;
  }
  throw new Error('expected the record to be refused');
}

describe('node registration records', () => {
  it('reads back what a node writes, dropping fields it does not know', () => {
    const parsed = JSON.parse(JSON.stringify({ ...WORKER, futureField: 1 }));
    expect(readNodeRecord(parsed)).toEqual(WORKER);
    const voter = {
      ...WORKER,
      id: 1,
      role: 'voter',
      addresses: { ...WORKER.addresses, client: '127.0.0.1:2379' },
    };
    expect(readNodeRecord(voter)).toEqual(voter);
  });

  it('names every problem of a broken record at once', () => {
    const problems = problemsOf({
      ...WORKER,
      id: 0,
      name: '',
      role: 'observer',
      addresses: { peer: 'nohost', admin: 7 },
      zone: 'z'.repeat(MAX_ZONE_CHARACTERS + 1),
      capacity: { cpus: -1 },
      version: 3,
      startedAt: 1.5,
    });
    expect(problems).toHaveLength(9);
    const text = problems.join('\n');
    for (const field of [
      'id',
      'name',
      'role',
      'addresses.peer',
      'addresses.admin',
      'zone',
      'capacity.cpus',
      'version',
      'startedAt',
    ]) {
      expect(text).toContain(field);
    }
  });

  it('requires a client address of a voter, not of a worker', () => {
    expect(problemsOf({ ...WORKER, role: 'voter' })).toEqual(['addresses.client is required for a voter']);
    expect(() => validateNodeRecord(WORKER)).not.toThrow();
  });

  it('bounds the capacity map', () => {
    const capacity = Object.fromEntries(
      Array.from({ length: MAX_CAPACITY_RESOURCES + 1 }, (_, index) => [`r${index}`, 1]),
    );
    expect(problemsOf({ ...WORKER, capacity })).toEqual([
      `capacity names ${MAX_CAPACITY_RESOURCES + 1} resources, at most ${MAX_CAPACITY_RESOURCES}`,
    ]);
    expect(problemsOf({ ...WORKER, capacity: { '9lives': 1 } })[0]).toMatch(/capacity resource '9lives'/);
    expect(problemsOf('not an object')).toEqual(['record must be an object, got "not an object"']);
  });
});
