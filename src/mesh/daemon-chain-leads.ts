/**
 * The daemon's chains follow its active between promotions and moves too (docs/DAEMONS.md
 * "Failover"): a chain's own failover may elect another node while the active stays (its node
 * paused past the chain's leader timeout, not past its registration lease), and then every event
 * would pay a hop to that node. The node running an active member looks, on each definition
 * change and every `CHAIN_LEADS_CHECK_INTERVAL_MS`, at the chains this node follows (the chain
 * host's view: no control-plane read); when a chain of its member is led by another node and
 * replicated here, it takes it back: the member's sends are held and drained (its send gate), one
 * transaction fenced by the daemon's definition (only the active the control plane names takes
 * its chains) starts the chain's next epoch led here (`chainTakeover`, the chains' own fencing),
 * and the sends go on.
 */
import type { ChainSummary } from '../api/index.js';
import type { StoredChain } from '../chains/index.js';
import type { DaemonDirectory, StoredDaemon } from '../daemons/directory.js';
import type { DaemonDefinition } from '../daemons/types.js';
import type { Clock, Logger, NodeId, TimerId } from '../lib/index.js';
import { chainTakeover } from './daemon-chain-takeover.js';
import type { DaemonMembers } from './daemon-members.js';

/** How often the active's node looks whether its chains are led elsewhere. */
export const CHAIN_LEADS_CHECK_INTERVAL_MS = 1_000;
/** Least time between two takeovers of one daemon's chains, so a chain that will not stay is not bounced. */
export const CHAIN_LEADS_MIN_INTERVAL_MS = 10_000;
/** How long a takeover waits for the sends already appending to finish. */
export const CHAIN_LEADS_DRAIN_TIMEOUT_MS = 2_000;

export interface ActiveChainLeadsOptions {
  readonly self: NodeId;
  readonly directory: Pick<DaemonDirectory, 'whileUnchanged'>;
  readonly members: Pick<DaemonMembers, 'get'>;
  readonly definitions: () => ReadonlyMap<string, StoredDaemon>;
  /** The chains this node follows, with their leader and replicas (the chain host's view). */
  readonly chainsHere: () => Promise<readonly ChainSummary[]>;
  /** The daemon's chains as the control plane holds them (what the takeover compares). */
  readonly chainsOf: (daemon: DaemonDefinition) => Promise<readonly StoredChain[]>;
  readonly clock: Clock;
  readonly logger?: Logger;
}

export class ActiveChainLeads {
  private timer: TimerId | undefined;
  private stopped = false;
  private checking: Promise<void> | undefined;
  private checkAgain = false;
  private readonly lastTakeoverMs = new Map<string, number>();
  /** Chains this node took back (for tests and logs). */
  takeovers = 0;

  constructor(private readonly options: ActiveChainLeadsOptions) {}

  start(): void {
    this.arm();
  }

  /** Something changed (a definition): look now; resolves when the look is done. */
  notify(): Promise<void> {
    return this.check();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer !== undefined) this.options.clock.clearTimer(this.timer);
    this.timer = undefined;
    await this.checking;
  }

  private arm(): void {
    this.timer = this.options.clock.setTimer(CHAIN_LEADS_CHECK_INTERVAL_MS, () => {
      if (this.stopped) return;
      void this.check();
      this.arm();
    });
  }

  /** One check at a time; a call during one runs another after it. */
  private check(): Promise<void> {
    if (this.checking !== undefined) {
      this.checkAgain = true;
      return this.checking;
    }
    this.checking = (async () => {
      do {
        this.checkAgain = false;
        await this.checkAll().catch((error: unknown) =>
          this.options.logger?.warn({ err: error }, "daemons: checking the actives' chain leaders failed"),
        );
      } while (this.checkAgain && !this.stopped);
    })().finally(() => {
      this.checking = undefined;
    });
    return this.checking;
  }

  private async checkAll(): Promise<void> {
    const { self, members, definitions, clock } = this.options;
    let byName: Map<string, ChainSummary> | undefined;
    for (const stored of definitions().values()) {
      if (this.stopped) return;
      const name = stored.definition.name;
      const member = members.get(name);
      if (member === undefined || !member.accepting) continue;
      const lastMs = this.lastTakeoverMs.get(name);
      if (lastMs !== undefined && clock.nowMs() - lastMs < CHAIN_LEADS_MIN_INTERVAL_MS) continue;
      byName ??= new Map((await this.options.chainsHere()).map((chain) => [chain.name, chain]));
      const { inbound, outputs } = member.ownChains;
      const ledElsewhere = [inbound, outputs].filter((chain) => {
        const summary = byName?.get(chain);
        return summary !== undefined && summary.leader !== self && summary.replicas.includes(self);
      });
      if (ledElsewhere.length > 0) await this.takeOver(stored, ledElsewhere);
    }
  }

  /** Holds the member's sends, takes `chains` in one fenced transaction, lets the sends go on. */
  private async takeOver(stored: StoredDaemon, chains: readonly string[]): Promise<void> {
    const { self, members, clock, logger } = this.options;
    const name = stored.definition.name;
    this.lastTakeoverMs.set(name, clock.nowMs());
    const current = (await this.options.chainsOf(stored.definition)).filter((chain) =>
      chains.includes(chain.definition.name),
    );
    const takeover = chainTakeover(current, self);
    const member = members.get(name);
    if (takeover.chains.length === 0 || member === undefined || !member.accepting) return;
    member.gate.close();
    try {
      await member.gate.drained(CHAIN_LEADS_DRAIN_TIMEOUT_MS);
      if (await this.options.directory.whileUnchanged(stored, takeover)) {
        this.takeovers += takeover.chains.length;
        logger?.info(
          { daemon: name, chains: takeover.chains },
          "daemons: the active's node took its chains back",
        );
      }
    } finally {
      member.gate.reopen();
    }
  }
}
