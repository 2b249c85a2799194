/**
 * The members of deployed daemons that run on this node, kept in step with the definitions the
 * node follows: a member placed here starts (a fresh daemon of its kind that replays the
 * inbound chain from its start), a newer definition is handed to it (it may become active or
 * stop being it), and a member whose daemon is removed stops.
 */
import type { ChainsBackend } from '../api/index.js';
import type { StoredDaemon } from '../daemons/directory.js';
import { ExactlyOnceApplier } from '../daemons/exactly-once-applier.js';
import type { DaemonDefinition, DaemonKindCatalog } from '../daemons/types.js';
import type { Clock, Logger, NodeId } from '../lib/index.js';
import type { NodeLease } from './daemon-active-fence.js';
import { DaemonMember } from './daemon-member.js';

export interface DaemonMembersOptions {
  readonly self: NodeId;
  readonly catalog: DaemonKindCatalog;
  readonly chains: ChainsBackend;
  /** The node's lease an active serves under (absent: no lease check; see DaemonMember). */
  readonly nodeLease?: () => NodeLease | undefined;
  readonly clock: Clock;
  readonly logger?: Logger;
}

export class DaemonMembers {
  private readonly running = new Map<string, DaemonMember>();
  private closed = false;

  constructor(private readonly options: DaemonMembersOptions) {}

  /** This node's member of daemon `name`, if one runs here. */
  get(name: string): DaemonMember | undefined {
    return this.running.get(name);
  }

  get size(): number {
    return this.running.size;
  }

  all(): DaemonMember[] {
    return [...this.running.values()];
  }

  /** Starts, updates and stops members to match `daemons` (the whole followed map). */
  reconcile(daemons: ReadonlyMap<string, StoredDaemon>): void {
    if (this.closed) return;
    for (const [name, member] of this.running) {
      const definition = daemons.get(name)?.definition;
      const index = definition === undefined ? undefined : this.ownIndex(definition);
      if (definition === undefined || index !== member.index || member.ended) {
        this.running.delete(name);
        void member.stop();
      } else {
        member.updateDefinition(definition);
      }
    }
    for (const { definition } of daemons.values()) {
      if (this.running.has(definition.name)) continue;
      const index = this.ownIndex(definition);
      if (index !== undefined) this.startMember(definition, index);
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    const members = [...this.running.values()];
    this.running.clear();
    await Promise.all(members.map((member) => member.stop()));
  }

  private ownIndex(definition: DaemonDefinition): number | undefined {
    return definition.members.find((member) => member.node === this.options.self)?.index;
  }

  private startMember(definition: DaemonDefinition, index: number): void {
    const { catalog, chains, clock, logger, self, nodeLease } = this.options;
    const newApplier = () =>
      ExactlyOnceApplier.create({
        kind: catalog.get(definition.kind),
        config: definition.config,
        context: { daemonName: definition.name, memberIndex: index, node: self },
        clock,
      });
    let member: DaemonMember;
    try {
      member = new DaemonMember({
        definition,
        index,
        newApplier,
        chains,
        ...(nodeLease === undefined ? {} : { nodeLease }),
        clock,
        ...(logger === undefined ? {} : { logger }),
      });
    } catch (error) {
      logger?.error(
        { err: error, daemon: definition.name, kind: definition.kind },
        'daemons: cannot run this member here',
      );
      return;
    }
    this.running.set(definition.name, member);
    member.start();
  }
}
