/**
 * `meshos snapshot restore`: builds one member's data directory of a NEW cluster from a snapshot
 * file, as etcd's restore does. The snapshot's key-value store is kept whole (every revision, the
 * compact revision, leases, alarms); its client sessions and member directory are the old
 * cluster's and are dropped: the member directory holds the given members, Raft's configuration
 * makes them the voters. The data directory then holds:
 *
 * - `node.json`: the member's identity (id, name, the new cluster's id, the initial members);
 * - `raft/`: a snapshot at the Raft index the file was taken at, term 1, with the new voters,
 *   and a hard state committing it, so a node started on the directory begins where the
 *   snapshot ends and the first election is at term 2.
 *
 * Every member of the new cluster is restored from the same file with the same member list, so
 * all start from the same state and the same index.
 */
import { type Address, type Disk, formatAddress, MeshError, type NodeId, runToEnd } from '../lib/index.js';
import { EMPTY_CONFIG } from '../raft/index.js';
import {
  encodeClusterConfig,
  MemberDirectory,
  type OpenedSnapshotFile,
  SessionTable,
} from '../server/index.js';
import { openRaftLogStore } from '../store/index.js';
import { raftDirectory } from './node-config.js';
import { loadOrCreateIdentity } from './node-identity.js';

/** The Raft term the restored log starts in: the snapshot's; elections begin above it. */
const RESTORED_TERM = 1;

export class RestoreTargetError extends MeshError {
  constructor(directory: string, problem: string) {
    super('RESTORE_TARGET_INVALID', `cannot restore into ${directory}: ${problem}`, {
      details: { directory, problem },
    });
  }
}

export interface RestorePlan {
  /** Must not exist, or be empty: a restore never writes over a node's data. */
  readonly dataDirectory: string;
  readonly id: NodeId;
  readonly name: string;
  /** The new cluster's id (`--cluster`, etcd's `--initial-cluster-token`). */
  readonly clusterId: string;
  /** Every member of the new cluster and its peer address (etcd's `--initial-cluster`). */
  readonly members: ReadonlyMap<NodeId, Address>;
}

export interface RestoredDirectory {
  readonly raftIndex: number;
  readonly revision: number;
  readonly voters: readonly NodeId[];
}

/** Writes `plan.dataDirectory` from the opened snapshot file; `opened.machine` is changed. */
export async function restoreDataDirectory(
  disk: Disk,
  opened: OpenedSnapshotFile,
  plan: RestorePlan,
): Promise<RestoredDirectory> {
  if (!plan.members.has(plan.id))
    throw new RestoreTargetError(plan.dataDirectory, `member ${plan.id} is not among the initial members`);
  if ((await disk.exists(plan.dataDirectory)) && (await disk.list(plan.dataDirectory)).length > 0)
    throw new RestoreTargetError(plan.dataDirectory, 'the directory is not empty');
  const { machine } = opened;
  const raftIndex = machine.kv.appliedIndex;
  if (raftIndex < 1) throw new RestoreTargetError(plan.dataDirectory, 'the snapshot holds no Raft index');
  const voters = [...plan.members.keys()].sort((left, right) => left - right);
  machine.sessions.restore(new SessionTable().snapshot());
  machine.members.restore(newMemberDirectory(plan.members).snapshot());

  await disk.makeDirectory(plan.dataDirectory);
  const { store } = await openRaftLogStore(disk, raftDirectory(plan));
  try {
    await store.saveSnapshot({
      index: raftIndex,
      term: RESTORED_TERM,
      config: encodeClusterConfig({ ...EMPTY_CONFIG, voters }),
      // In parts, as the node encodes them: no copy of the whole snapshot is joined.
      data: runToEnd(machine.startSnapshotParts()),
    });
    await store.append([], { term: RESTORED_TERM, vote: 0, commit: raftIndex });
  } finally {
    await store.close();
  }
  // Written last: a restore that failed half-way leaves no identity (delete the directory, restore again).
  await loadOrCreateIdentity(disk, plan.dataDirectory, {
    id: plan.id,
    name: plan.name,
    clusterId: plan.clusterId,
    initialPeers: [...plan.members],
  });
  return { raftIndex, revision: machine.kv.revision, voters };
}

/** The new members' records, the same on every member (each node announces its name and client URLs once it runs). */
function newMemberDirectory(members: ReadonlyMap<NodeId, Address>): MemberDirectory {
  const directory = new MemberDirectory();
  for (const [id, address] of members) {
    directory.set({ id, name: `n${id}`, peerUrls: [`http://${formatAddress(address)}`], clientUrls: [] });
  }
  return directory;
}
