import * as path from 'node:path';
import type { Disk, NodeId } from '../lib/index.js';
import { MemberRemovedError } from '../server/index.js';

/**
 * The file a member removed from its cluster leaves in its data directory. Its log may never
 * say so (the leader stops replicating to it), so without the mark a restart would run a node
 * that waits forever for a leader.
 */
export const REMOVED_MARK_FILE = 'REMOVED';

/** Writes the mark durably (temp file, sync, rename, directory sync). */
export async function writeRemovedMark(disk: Disk, directory: string, id: NodeId): Promise<void> {
  const file = path.join(directory, REMOVED_MARK_FILE);
  const temporary = `${file}.tmp`;
  const handle = await disk.open(temporary, 'create');
  await handle.append(new TextEncoder().encode(`member ${id} was removed from its cluster\n`));
  await handle.datasync();
  await handle.close();
  await disk.rename(temporary, file);
  await disk.fsyncDirectory(directory);
}

/** Throws MEMBER_REMOVED when the directory belongs to a member that was removed. */
export async function refuseIfRemoved(disk: Disk, directory: string, id: NodeId): Promise<void> {
  if (await disk.exists(path.join(directory, REMOVED_MARK_FILE))) throw new MemberRemovedError(id);
}
