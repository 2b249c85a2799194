/**
 * What this node, routing events to replica groups, knows of each member's load: the sends it
 * has in flight to the member and the saturation the member last reported in an answer. An
 * entry lives while sends to its daemon are in flight (bounded by the sends this node serves),
 * so a removed daemon leaves nothing behind.
 */
import type { ReplicaLoad } from '../daemons/replica-routing.js';
import type { DaemonDefinition } from '../daemons/types.js';
import type { NodeId } from '../lib/index.js';

interface DaemonLoads {
  readonly inFlight: Map<number, number>;
  readonly saturation: Map<number, number>;
  sends: number;
}

export class ReplicaLoads {
  private readonly daemons = new Map<string, DaemonLoads>();
  private turns = 0;

  /** Each member's load, index order; a member on an unhealthy node is not available. */
  loads(definition: DaemonDefinition, healthy: (node: NodeId) => boolean): ReplicaLoad[] {
    const known = this.daemons.get(definition.name);
    return definition.members.map(({ index, node }) => ({
      index,
      available: healthy(node),
      saturation: known?.saturation.get(index) ?? 0,
      inFlight: known?.inFlight.get(index) ?? 0,
    }));
  }

  /** A rotating count for `leastSaturatedReplica`'s ties. */
  nextTurn(): number {
    this.turns = (this.turns + 1) % Number.MAX_SAFE_INTEGER;
    return this.turns;
  }

  /** A send to member `index` of `daemon` leaves; call `finished` when it is answered. */
  started(daemon: string, index: number): (reportedSaturation?: number) => void {
    let loads = this.daemons.get(daemon);
    if (loads === undefined) {
      loads = { inFlight: new Map(), saturation: new Map(), sends: 0 };
      this.daemons.set(daemon, loads);
    }
    const entry = loads;
    entry.sends += 1;
    entry.inFlight.set(index, (entry.inFlight.get(index) ?? 0) + 1);
    let done = false;
    return (reportedSaturation) => {
      if (done) return;
      done = true;
      entry.inFlight.set(index, (entry.inFlight.get(index) ?? 1) - 1);
      if (reportedSaturation !== undefined && Number.isFinite(reportedSaturation))
        entry.saturation.set(index, Math.min(1, Math.max(0, reportedSaturation)));
      entry.sends -= 1;
      if (entry.sends === 0 && this.daemons.get(daemon) === entry) this.daemons.delete(daemon);
    };
  }
}
