/**
 * Applies inbound events to a member's daemon with exactly-once per (clientId, sequence): a
 * sequence at or below the client's last applied one is a retry, answered (with the outputs
 * of the client's last event when it is that one) without applying it again.
 */
import type { MeshDaemon } from '../compute/index.js';
import type { EventApplier } from '../daemons/member-core.js';
import type { InboundEventRecord } from '../daemons/types.js';

/** Clients whose last sequence a member remembers; the least recently seen is forgotten first. */
export const MAX_DEDUP_CLIENTS = 65_536;

interface ClientEntry {
  readonly sequence: number;
  readonly outputs: readonly Uint8Array[];
}

export class DedupApplier implements EventApplier {
  private readonly clients = new Map<string, ClientEntry>();

  constructor(private readonly daemon: MeshDaemon) {}

  async apply(record: InboundEventRecord): Promise<{ outputs: readonly Uint8Array[]; duplicate: boolean }> {
    const { clientId, sequence } = record;
    const seen = clientId === undefined ? undefined : this.clients.get(clientId);
    if (seen !== undefined && sequence !== undefined && sequence <= seen.sequence)
      return { outputs: sequence === seen.sequence ? seen.outputs : [], duplicate: true };
    const outputs = await this.daemon.process({
      payload: record.payload,
      ...(record.key === undefined ? {} : { key: record.key }),
    });
    if (clientId !== undefined && sequence !== undefined) {
      this.clients.delete(clientId);
      this.clients.set(clientId, { sequence, outputs });
      if (this.clients.size > MAX_DEDUP_CLIENTS)
        this.clients.delete(this.clients.keys().next().value as string);
    }
    return { outputs, duplicate: false };
  }

  state(): Uint8Array {
    return this.daemon.snapshot?.() ?? new Uint8Array(0);
  }
}
