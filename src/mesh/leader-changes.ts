/**
 * The leader changes a voter saw, newest last, in a ring of `MAX_LEADER_CHANGES_KEPT`: the
 * Deck's "recent elections". Kept by the node across restarts of its Raft service, not on disk.
 */
import type { Clock } from '../lib/index.js';
import type { LeaderInfo } from '../server/index.js';
import type { LeaderChange } from './admin-documents.js';

export const MAX_LEADER_CHANGES_KEPT = 16;

export class LeaderChanges {
  private readonly changes: LeaderChange[] = [];

  constructor(private readonly clock: Clock) {}

  record(info: LeaderInfo): void {
    const last = this.changes[this.changes.length - 1];
    if (last !== undefined && last.term === info.term && last.leaderId === info.leaderId) return;
    this.changes.push({ term: info.term, leaderId: info.leaderId, atWallMs: this.clock.wallMs() });
    if (this.changes.length > MAX_LEADER_CHANGES_KEPT) this.changes.shift();
  }

  list(): readonly LeaderChange[] {
    return [...this.changes];
  }
}
