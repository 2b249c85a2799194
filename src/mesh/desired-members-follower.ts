/**
 * Operators' member counts (`reconcile/desired/<daemon>`, `meshos daemon scale`) as this node
 * follows them, so a daemon's status carries its count without a control-plane read of its own
 * (the Deck asks for up to 64 statuses a second): the count is as fresh as the definition the
 * status shows, which comes from this node's daemons follower too.
 */
import {
  type ControlPlane,
  PrefixFollower,
  reconcileDesiredKey,
  reconcileDesiredPrefix,
} from '../control/index.js';
import type { Clock } from '../lib/index.js';
import { readDesiredMembers, readDesiredMembersRecord } from './reconcile-records.js';

export class DesiredMembersFollower {
  private readonly follower: PrefixFollower;

  constructor(
    private readonly plane: ControlPlane,
    clock: Clock,
  ) {
    this.follower = new PrefixFollower(plane, reconcileDesiredPrefix, { onReset: () => {} }, { clock });
  }

  /**
   * The operator's count for `daemon`, if one was asked for: from the followed records, or read
   * from the control plane until they were first listed. A record that does not decode counts
   * as none (the reconciler skips it too).
   */
  async membersOf(daemon: string): Promise<number | undefined> {
    if (!this.listed) return readDesiredMembers(this.plane, daemon);
    const key = reconcileDesiredKey(daemon);
    const entry = this.follower.entries.get(key);
    if (entry === undefined) return undefined;
    try {
      return readDesiredMembersRecord(key, entry.value).members;
    } catch {
      return undefined;
    }
  }

  /** Whether the records were listed once: from then on a count costs no read. */
  get listed(): boolean {
    return this.follower.resetCount > 0;
  }

  stop(): void {
    this.follower.stop();
  }
}
