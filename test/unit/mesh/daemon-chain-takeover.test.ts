import { describe, expect, it } from 'vitest';
import { decodeChainDefinition } from '../../../src/chains/index.js';
import { chainKey, unchangedSince } from '../../../src/control/index.js';
import { chainTakeover } from '../../../src/mesh/daemon-chain-takeover.js';
import { chain } from '../chains/placement-fixtures.js';

describe('chainTakeover', () => {
  it('starts the next epoch, led by the new active and with it as origin, of each chain led by another node', () => {
    const inbound = {
      definition: chain('daemon.a.inbound', [1, 2, 3], { epoch: 4, origin: 1 }),
      modRevision: 17,
    };
    const outputs = { definition: chain('daemon.a.outputs', [1, 2, 3], { epoch: 2 }), modRevision: 12 };
    const takeover = chainTakeover([inbound, outputs], 2);
    expect(takeover.chains).toEqual(['daemon.a.inbound', 'daemon.a.outputs']);
    expect(takeover.compare).toEqual([
      unchangedSince(chainKey('daemon.a.inbound'), 17),
      unchangedSince(chainKey('daemon.a.outputs'), 12),
    ]);
    const written = takeover.success.map((op) => {
      if (op.type !== 'put') throw new Error(`expected a put, got ${op.type}`);
      return decodeChainDefinition(op.key, op.value);
    });
    expect(written.map(({ epoch, leader, origin }) => ({ epoch, leader, origin }))).toEqual([
      { epoch: 5, leader: 2, origin: 2 },
      { epoch: 3, leader: 2, origin: 2 },
    ]);
    expect(written[0]!.replicas).toEqual([1, 2, 3]);
  });

  it('takes a chain from a healthy leader too (a move, or a chain failover that elected another node)', () => {
    const healthyElsewhere = {
      definition: chain('daemon.a.inbound', [3, 2, 1], { epoch: 7 }),
      modRevision: 9,
    };
    const takeover = chainTakeover([healthyElsewhere], 2);
    expect(takeover.chains).toEqual(['daemon.a.inbound']);
    const op = takeover.success[0]!;
    if (op.type !== 'put') throw new Error(`expected a put, got ${op.type}`);
    expect(decodeChainDefinition(op.key, op.value)).toMatchObject({ epoch: 8, leader: 2, origin: 2 });
  });

  it('leaves a chain the new active leads already, or does not replicate', () => {
    const led = { definition: chain('daemon.a.inbound', [2, 3, 1]), modRevision: 5 };
    const elsewhere = { definition: chain('daemon.a.outputs', [1, 3, 4]), modRevision: 6 };
    const takeover = chainTakeover([led, elsewhere], 2);
    expect(takeover).toEqual({ chains: [], compare: [], success: [] });
  });
});
