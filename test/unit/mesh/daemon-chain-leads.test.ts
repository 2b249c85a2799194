/**
 * `ActiveChainLeads`: the node of an active member takes the daemon's chains back when the
 * chains' own failover left them led by another node, in one transaction fenced by the daemon's
 * definition, with the member's sends held meanwhile; never a chain it leads already, does not
 * replicate, of a member that is not accepting, nor twice within the minimum interval.
 */
import { describe, expect, it } from 'vitest';
import type { ChainSummary } from '../../../src/api/index.js';
import { decodeChainDefinition, type StoredChain } from '../../../src/chains/index.js';
import {
  type ControlCompare,
  type ControlTxnOp,
  chainKey,
  unchangedSince,
} from '../../../src/control/index.js';
import type { StoredDaemon } from '../../../src/daemons/directory.js';
import type { DaemonDefinition } from '../../../src/daemons/types.js';
import { ManualClock } from '../../../src/lib/index.js';
import { ActiveChainLeads, CHAIN_LEADS_MIN_INTERVAL_MS } from '../../../src/mesh/daemon-chain-leads.js';
import type { DaemonMember } from '../../../src/mesh/daemon-member.js';
import { SendGate } from '../../../src/mesh/daemon-send-gate.js';
import { standbyDefinition } from '../../support/daemon-definition.js';
import { chain } from '../chains/placement-fixtures.js';

const SELF = 2;
const INBOUND = 'daemon.log.inbound';
const OUTPUTS = 'daemon.log.outputs';

const definition: DaemonDefinition = standbyDefinition({ active: 1, epoch: 3 });
const stored: StoredDaemon = { definition, modRevision: 40 };

interface Taken {
  readonly current: StoredDaemon;
  readonly compare: readonly ControlCompare[];
  readonly success: readonly ControlTxnOp[];
  readonly gateOpen: boolean;
}

function setUp(options: { leaders: Record<string, number>; replicas?: number[]; accepting?: boolean }) {
  const clock = new ManualClock();
  const gate = new SendGate(clock);
  const replicas = options.replicas ?? [1, 2, 3];
  const member = {
    accepting: options.accepting ?? true,
    ownChains: { inbound: INBOUND, outputs: OUTPUTS },
    gate,
  } as unknown as DaemonMember;
  const taken: Taken[] = [];
  const summaries = (): ChainSummary[] =>
    [INBOUND, OUTPUTS].map((name) => ({
      name,
      epoch: 5,
      leader: options.leaders[name] ?? 0,
      acks: 'quorum',
      replicas,
    }));
  const storedChains = (): StoredChain[] =>
    [INBOUND, OUTPUTS].map((name, index) => ({
      definition: chain(name, replicas, { epoch: 5, leader: options.leaders[name] ?? 1 }),
      modRevision: 30 + index,
    }));
  const leads = new ActiveChainLeads({
    self: SELF,
    directory: {
      whileUnchanged: async (current, also) => {
        taken.push({ current, compare: also.compare, success: also.success, gateOpen: gate.open });
        return true;
      },
    },
    members: { get: (name) => (name === 'log' ? member : undefined) },
    definitions: () => new Map([['log', stored]]),
    chainsHere: async () => summaries(),
    chainsOf: async () => storedChains(),
    clock,
  });
  return { clock, gate, leads, taken };
}

describe('ActiveChainLeads', () => {
  it("takes a chain led by another node back to the active's node, fenced by the definition, sends held", async () => {
    const { leads, taken, gate } = setUp({ leaders: { [INBOUND]: 3, [OUTPUTS]: SELF } });
    await leads.notify();
    expect(taken).toHaveLength(1);
    const [takeover] = taken;
    expect(takeover!.current).toBe(stored);
    expect(takeover!.compare).toEqual([unchangedSince(chainKey(INBOUND), 30)]);
    expect(takeover!.gateOpen).toBe(false);
    expect(gate.open).toBe(true);
    const op = takeover!.success[0]!;
    if (op.type !== 'put') throw new Error(`expected a put, got ${op.type}`);
    expect(decodeChainDefinition(op.key, op.value)).toMatchObject({
      name: INBOUND,
      epoch: 6,
      leader: SELF,
      origin: SELF,
    });
    expect(leads.takeovers).toBe(1);
  });

  it('does not take a chain it leads, does not replicate, or of a member not accepting', async () => {
    for (const options of [
      { leaders: { [INBOUND]: SELF, [OUTPUTS]: SELF } },
      { leaders: { [INBOUND]: 3, [OUTPUTS]: 3 }, replicas: [1, 3, 4] },
      { leaders: { [INBOUND]: 3, [OUTPUTS]: 3 }, accepting: false },
    ]) {
      const { leads, taken } = setUp(options);
      await leads.notify();
      expect(taken).toEqual([]);
    }
  });

  it("takes a daemon's chains at most once per minimum interval", async () => {
    const { leads, taken, clock } = setUp({ leaders: { [INBOUND]: 3, [OUTPUTS]: 3 } });
    await leads.notify();
    expect(taken).toHaveLength(1);
    expect(taken[0]!.success).toHaveLength(2);
    await leads.notify();
    expect(taken).toHaveLength(1);
    clock.advance(CHAIN_LEADS_MIN_INTERVAL_MS);
    await leads.notify();
    expect(taken).toHaveLength(2);
    await leads.stop();
  });
});
