import { describe, expect, it } from 'vitest';
import { MemoryDisk, SystemClock } from '../../../src/lib/index.js';
import {
  type OpenedSnapshotFile,
  openSnapshotFile,
  readIdentity,
  restoreDataDirectory,
  summarizeSnapshotFile,
} from '../../../src/mesh/index.js';
import { sealSnapshot } from '../../../src/protocol/index.js';
import type { Entry } from '../../../src/raft/index.js';
import {
  decodeClusterConfig,
  encodeNodeCommand,
  type NodeCommand,
  NodeStateMachine,
} from '../../../src/server/index.js';
import { openRaftLogStore } from '../../../src/store/index.js';

const bytes = (text: string) => new TextEncoder().encode(text);

/** The file's bytes in parts of `partBytes` (odd sizes split the header, padding and digest). */
function* partsOf(whole: Uint8Array, partBytes: number): Generator<Uint8Array> {
  for (let start = 0; start < whole.length; start += partBytes)
    yield whole.subarray(start, start + partBytes);
}

/** Opens `whole` read in parts of several sizes; every size must give the same answer. */
async function open(file: string, whole: Uint8Array, options: { skipHashCheck?: boolean } = {}) {
  const [first, ...others] = (await Promise.all(
    [whole.length + 1, 1_000, 7].map((partBytes) =>
      openSnapshotFile(file, partsOf(whole, partBytes), whole.length, options).then(
        (opened) => ({ opened }),
        (error: unknown) => ({ error }),
      ),
    ),
  )) as [
    { opened: OpenedSnapshotFile } | { error: unknown },
    ...({ opened: OpenedSnapshotFile } | { error: unknown })[],
  ];
  for (const other of others) {
    if ('error' in first) expect(other).toEqual(first);
    else
      expect('opened' in other && summarizeSnapshotFile(other.opened)).toEqual(
        summarizeSnapshotFile(first.opened),
      );
  }
  if ('error' in first) throw first.error;
  return first.opened;
}

function entry(index: number, command: NodeCommand): Entry {
  return { term: 3, index, kind: 'normal', data: encodeNodeCommand(command) };
}

/** A source cluster's state: puts, a session, its members 1..3 (one removed) at Raft index 12. */
function sourceMachine(): NodeStateMachine {
  const machine = new NodeStateMachine();
  let index = 0;
  for (const id of [1, 2, 3]) {
    machine.apply(
      entry(++index, {
        type: 'setMember',
        member: { id, name: `old${id}`, peerUrls: [`http://old:${id}`], clientUrls: [] },
      }),
    );
  }
  machine.apply(entry(++index, { type: 'removeMember', id: 3 }));
  for (let round = 0; round < 8; round++) {
    machine.apply(
      entry(++index, {
        type: 'kv',
        command: { type: 'put', key: bytes(`key-${round % 5}`), value: bytes(`value-${round}`) },
        session: { clientId: 'client', sequence: round + 1 },
      }),
    );
  }
  return machine;
}

const MEMBERS = new Map([
  [4, { host: '127.0.0.1', port: 4001 }],
  [5, { host: '127.0.0.1', port: 4002 }],
  [6, { host: '127.0.0.1', port: 4003 }],
]);

describe('snapshot file', () => {
  it('opens a sealed snapshot and sums it up', async () => {
    const source = sourceMachine();
    const file = sealSnapshot(source.snapshot());
    const summary = summarizeSnapshotFile(await open('f.db', file));
    expect(summary).toMatchObject({
      fileBytes: file.length,
      hashChecked: true,
      revision: source.kv.revision,
      keys: 5,
      records: 8,
      raftIndex: 12,
      members: [1, 2],
    });
    expect(summary.hashKv).toBe(
      summarizeSnapshotFile(await open('g.db', sealSnapshot(sourceMachine().snapshot()))).hashKv,
    );
  });

  it('refuses a flipped bit, a cut file and garbage after the snapshot with SNAPSHOT_FILE_CORRUPT', async () => {
    const data = sourceMachine().snapshot();
    const flipped = sealSnapshot(data);
    flipped[20] = (flipped[20] ?? 0) ^ 1;
    const code = { code: 'SNAPSHOT_FILE_CORRUPT' };
    // The digest is what refuses it, though the snapshot fails to decode before the digest is read.
    await expect(open('f', flipped)).rejects.toThrow(
      expect.objectContaining({ ...code, message: expect.stringMatching(/SHA-256 digest does not match/) }),
    );
    // Without the digest check the snapshot's own checksum still finds it.
    await expect(open('f', flipped, { skipHashCheck: true })).rejects.toThrow(expect.objectContaining(code));
    const sealed = sealSnapshot(data);
    await expect(open('f', sealed.subarray(0, sealed.length - 1))).rejects.toThrow(
      expect.objectContaining(code),
    );
    const trailing = new Uint8Array(data.length + 1);
    trailing.set(data);
    trailing[data.length] = 7;
    await expect(open('f', sealSnapshot(trailing))).rejects.toThrow(expect.objectContaining(code));
    await expect(open('f', sealSnapshot(bytes('not a snapshot')))).rejects.toThrow(
      expect.objectContaining(code),
    );
    // A bare snapshot (no padding, no digest) opens only when the check is skipped.
    await expect(open('f', data)).rejects.toThrow(expect.objectContaining(code));
    expect((await open('f', data, { skipHashCheck: true })).hashChecked).toBe(false);
  });
});

describe('restoreDataDirectory', () => {
  it('writes a Raft snapshot at the source index with the new voters, members and no sessions', async () => {
    const source = sourceMachine();
    const disk = new MemoryDisk();
    const opened = await open('f.db', sealSnapshot(source.snapshot()));
    const restored = await restoreDataDirectory(disk, opened, {
      dataDirectory: '/data/n5',
      id: 5,
      name: 'five',
      clusterId: 'new-cluster',
      members: MEMBERS,
    });
    expect(restored).toEqual({ raftIndex: 12, revision: source.kv.revision, voters: [4, 5, 6] });
    expect(await readIdentity(disk, '/data/n5')).toMatchObject({
      id: 5,
      name: 'five',
      clusterId: 'new-cluster',
    });
    const { store, recovered } = await openRaftLogStore(disk, '/data/n5/raft', { clock: new SystemClock() });
    await store.close();
    expect(recovered.hardState).toEqual({ term: 1, vote: 0, commit: 12 });
    expect(recovered.snapshot?.index).toBe(12);
    expect(recovered.snapshot?.term).toBe(1);
    expect(decodeClusterConfig(recovered.snapshot!.config).voters).toEqual([4, 5, 6]);
    const machine = new NodeStateMachine();
    machine.restore(recovered.snapshot!.data);
    expect(machine.members.all().map((member) => [member.id, member.peerUrls[0]])).toEqual([
      [4, 'http://127.0.0.1:4001'],
      [5, 'http://127.0.0.1:4002'],
      [6, 'http://127.0.0.1:4003'],
    ]);
    expect(machine.members.isRemoved(3)).toBe(false);
    expect(machine.sessions.size).toBe(0);
    expect(machine.kv.revision).toBe(source.kv.revision);
    expect(machine.kv.range({ type: 'range', key: bytes('key-'), rangeEnd: bytes('key.') }).kvs).toEqual(
      source.kv.range({ type: 'range', key: bytes('key-'), rangeEnd: bytes('key.') }).kvs,
    );
  });

  it('refuses a directory that is not empty and a member not among the initial members', async () => {
    const disk = new MemoryDisk();
    const file = sealSnapshot(sourceMachine().snapshot());
    const plan = { dataDirectory: '/data/n4', id: 4, name: 'n4', clusterId: 'c', members: MEMBERS };
    await restoreDataDirectory(disk, await open('f', file), plan);
    const code = { code: 'RESTORE_TARGET_INVALID' };
    await expect(restoreDataDirectory(disk, await open('f', file), plan)).rejects.toThrow(
      expect.objectContaining(code),
    );
    await expect(
      restoreDataDirectory(disk, await open('f', file), { ...plan, dataDirectory: '/data/n9', id: 9 }),
    ).rejects.toThrow(expect.objectContaining(code));
  });
});
