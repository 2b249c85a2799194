import type { NodeId } from '../lib/index.js';
import type { MemberNode, MembershipChange, MembershipView } from './membership-view.js';

/**
 * The changes of a node's successive membership views (one per start of its membership
 * service) as one stream. A view opened after a restart reports every listed node as a join:
 * the relay passes on only the joins of nodes it did not know, and once that view has loaded,
 * a leave for each known node that went while no view ran.
 */
export class MembershipChangeRelay {
  private readonly known = new Map<NodeId, MemberNode>();
  private readonly listeners = new Set<(change: MembershipChange) => void>();

  /** Relays the changes `view` reports from now on (the view before it is closed). */
  follow(view: MembershipView): void {
    view.onChange((change) => this.relay(change));
    void view.whenLoaded().then(() => {
      for (const [id, node] of [...this.known]) {
        if (view.get(id) === undefined) this.relay({ type: 'leave', node });
      }
    });
  }

  onChange(listener: (change: MembershipChange) => void): () => void {
    this.listeners.add(listener);
    return () => {
      this.listeners.delete(listener);
    };
  }

  private relay(change: MembershipChange): void {
    const id = change.node.record.id;
    if (change.type === 'join') {
      const wasKnown = this.known.has(id);
      this.known.set(id, change.node);
      if (wasKnown) return;
    } else if (change.type === 'leave') {
      if (!this.known.delete(id)) return;
    } else if (this.known.has(id)) {
      this.known.set(id, change.node);
    }
    for (const listener of [...this.listeners]) listener(change);
  }
}
