import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  type ChainChange,
  ChainConflictError,
  ChainExistsError,
  ChainFencedError,
  ChainNotFoundError,
  type StoredChain,
} from '../../../src/chains/index.js';
import { absent, ControlRecordDecodeError, chainKey, encodeRecord } from '../../../src/control/index.js';
import { ValidationError } from '../../../src/lib/index.js';
import { until } from '../../support/until.js';
import { type ChainPlane, openChainPlane } from './chain-plane.js';

let env: ChainPlane;
beforeEach(async () => {
  env = await openChainPlane();
});
afterEach(async () => {
  await env.close();
});

const placement = { replicas: [1, 2, 3], leader: 2 };

describe('ChainDirectory', () => {
  it('creates a chain at epoch 1 with its defaults, reads it back, and refuses the name twice', async () => {
    const created = await env.directory.create({ name: 'orders', origin: 2 }, placement);
    expect(created.definition).toEqual({
      name: 'orders',
      replicas: [1, 2, 3],
      acks: 'quorum',
      sync: { mode: 'batch' },
      retention: {},
      epoch: 1,
      leader: 2,
      origin: 2,
      createdAtMs: env.clock.wallMs(),
    });
    expect(await env.directory.get('orders')).toEqual(created);
    await expect(env.directory.create({ name: 'orders' }, placement)).rejects.toBeInstanceOf(
      ChainExistsError,
    );
    expect(await env.directory.get('absent')).toBeUndefined();
  });

  it('refuses a bad create request listing every problem, and a placement of the wrong size', async () => {
    const bad = env.directory.create(
      { name: '-bad', replicas: 9, acks: 'most' as 'one', sync: { mode: 'interval', intervalMs: 0 } },
      placement,
    );
    await expect(bad).rejects.toBeInstanceOf(ValidationError);
    const error = (await bad.catch((caught: unknown) => caught)) as ValidationError;
    expect(error.code).toBe('VALIDATION_FAILED');
    expect(error.problems).toHaveLength(4);
    await expect(env.directory.create({ name: 'two', replicas: 2 }, placement)).rejects.toThrow(
      /3 replicas placed, 2 asked for/,
    );
    await expect(env.directory.create({ name: 'lead' }, { replicas: [1, 2, 3], leader: 7 })).rejects.toThrow(
      /leader must be one of the replicas/,
    );
  });

  it('lists definitions in pages at one revision, skipping values that are not definitions', async () => {
    for (const name of ['a', 'b', 'c']) await env.directory.create({ name }, placement);
    await env.plane.put(chainKey('junk'), encodeRecord(chainKey('junk'), { name: 'junk' }));
    const first = await env.directory.list({ limit: 2 });
    expect(first.chains.map((chain) => chain.definition.name)).toEqual(['a', 'b']);
    expect(first.more).toBe(true);
    await env.directory.create({ name: 'late' }, placement);
    const second = await env.directory.list({ limit: 10, startAfter: 'b', revision: first.revision });
    expect(second.chains.map((chain) => chain.definition.name)).toEqual(['c']);
    expect(second.undecodable).toEqual(['chains/junk']);
    await expect(env.directory.get('junk')).rejects.toBeInstanceOf(ControlRecordDecodeError);
  });

  it('deletes by name or at an expected revision, with typed errors', async () => {
    const created = await env.directory.create({ name: 'gone' }, placement);
    await expect(
      env.directory.delete('gone', { expectedModRevision: created.modRevision - 1 }),
    ).rejects.toBeInstanceOf(ChainConflictError);
    await env.directory.delete('gone', { expectedModRevision: created.modRevision });
    await expect(env.directory.delete('gone')).rejects.toBeInstanceOf(ChainNotFoundError);
  });

  it('proposeNextEpoch: exactly one of several concurrent proposals for one epoch wins', async () => {
    const created = await env.directory.create({ name: 'race' }, placement);
    const answers = await Promise.all(
      [1, 3, 1, 3].map((leader) =>
        env.directory.proposeNextEpoch('race', { expectedModRevision: created.modRevision, leader }),
      ),
    );
    const won = answers.filter((answer) => answer.outcome === 'won');
    expect(won).toHaveLength(1);
    const winner = won[0]!.chain;
    expect(winner.definition.epoch).toBe(2);
    for (const answer of answers) expect(answer.chain).toEqual(winner);
    expect(await env.directory.get('race')).toEqual(winner);
    // A proposal for an epoch that has passed loses at once and shows the current definition.
    const late = await env.directory.proposeNextEpoch('race', { expectedEpoch: 1, leader: 3 });
    expect(late).toEqual({ outcome: 'lost', chain: winner });
    await expect(
      env.directory.proposeNextEpoch('race', { expectedEpoch: 2, leader: 9 }),
    ).rejects.toBeInstanceOf(ValidationError);
    await expect(
      env.directory.proposeNextEpoch('none', { expectedEpoch: 2, leader: 1 }),
    ).rejects.toBeInstanceOf(ChainNotFoundError);
  });

  it('replaces a replica in two steps: add a learner, then promote it with a new epoch', async () => {
    await env.directory.create({ name: 'swap' }, placement);
    const learning = await env.directory.addLearner('swap', 4);
    expect(learning.definition.learners).toEqual([4]);
    expect(learning.definition.epoch).toBe(1);
    await expect(env.directory.addLearner('swap', 5)).rejects.toThrow(
      /learners must be a list of 0 to 1 node ids/,
    );
    await env.directory.create({ name: 'other' }, placement);
    await expect(env.directory.addLearner('other', 2)).rejects.toThrow(/learner 2 is also a replica/);
    const promoted = await env.directory.promoteLearner('swap', 4, 3, {
      expectedModRevision: learning.modRevision,
    });
    expect(promoted.definition).toMatchObject({ replicas: [1, 2, 4], epoch: 2, leader: 2 });
    expect(promoted.definition.learners).toBeUndefined();
    await expect(
      env.directory.promoteLearner('swap', 4, 3, { expectedModRevision: learning.modRevision }),
    ).rejects.toBeInstanceOf(ChainConflictError);
    // Replacing the leader hands the new epoch to another replica.
    await env.directory.addLearner('swap', 5);
    const newLeader = await env.directory.promoteLearner('swap', 5, 2);
    expect(newLeader.definition).toMatchObject({ replicas: [1, 5, 4], epoch: 3, leader: 1 });
  });

  it('a change without an expected revision is made again on a newer definition', async () => {
    const created = await env.directory.create({ name: 'retry' }, placement);
    await env.directory.proposeNextEpoch('retry', { expectedModRevision: created.modRevision, leader: 1 });
    const learning = await env.directory.addLearner('retry', 4);
    expect(learning.definition).toMatchObject({ epoch: 2, leader: 1, learners: [4] });
  });

  it('refuses a write whose fence no longer holds (CHAIN_FENCED)', async () => {
    await env.plane.put('fence', new Uint8Array([1]));
    const fence = [absent('fence')];
    await expect(env.directory.create({ name: 'f' }, placement, { fence })).rejects.toBeInstanceOf(
      ChainFencedError,
    );
    const created = await env.directory.create({ name: 'f' }, placement);
    await expect(env.directory.addLearner('f', 4, { fence })).rejects.toBeInstanceOf(ChainFencedError);
    await expect(
      env.directory.proposeNextEpoch('f', { expectedModRevision: created.modRevision, leader: 1, fence }),
    ).rejects.toBeInstanceOf(ChainFencedError);
    expect(await env.directory.get('f')).toEqual(created);
  });

  it('follow() hands the whole map, then every change', async () => {
    await env.directory.create({ name: 'one' }, placement);
    const resets: Array<ReadonlyMap<string, StoredChain>> = [];
    const changes: ChainChange[] = [];
    const follower = env.directory.follow({
      onReset: (chains) => resets.push(new Map(chains)),
      onChange: (change) => changes.push(change),
    });
    await until(() => resets.length === 1, 'the first listing');
    expect([...resets[0]!.keys()]).toEqual(['one']);
    const two = await env.directory.create({ name: 'two' }, placement);
    await env.directory.delete('one');
    await until(() => changes.length === 2, 'two changes');
    expect(changes).toEqual([
      { type: 'put', chain: two },
      { type: 'delete', name: 'one' },
    ]);
    expect([...follower.chains.keys()]).toEqual(['two']);
    follower.stop();
    await follower.done;
  });
});
