/**
 * The Deck's view of other voters' own commit and applied index: an answer is shown for the
 * refresh period before that voter is asked again, asks of one voter never overlap, a voter that
 * does not answer is asked again at the next snapshot, and a node no longer a member is forgotten.
 */
import { describe, expect, it } from 'vitest';
import {
  DECK_PEER_INDEXES_REFRESH_MS,
  DeckPeerIndexes,
  type PeerIndexes,
} from '../../../src/mesh/deck-peer-indexes.js';

/** A fake admin port per address: counts asks, answers what `answers` holds (undefined: no answer). */
function adminPorts() {
  const answers = new Map<string, PeerIndexes | undefined>();
  const asked: string[] = [];
  let release: (() => void) | undefined;
  const state = { held: false };
  const fetchIndexes = async (admin: string): Promise<PeerIndexes | undefined> => {
    asked.push(admin);
    if (state.held) await new Promise<void>((resolve) => (release = resolve));
    const answer = answers.get(admin);
    if (answer === undefined) throw new Error(`${admin} did not answer`);
    return answer;
  };
  return { answers, asked, state, fetchIndexes, release: () => release?.() };
}

describe('DeckPeerIndexes', () => {
  it('shows an answer for the refresh period, then asks again', async () => {
    const ports = adminPorts();
    const indexes = new DeckPeerIndexes(ports.fetchIndexes);
    ports.answers.set('a:1', { commit: 10, applied: 9 });
    expect(await indexes.indexesOf(2, 'a:1', 0)).toEqual({ commit: 10, applied: 9 });
    ports.answers.set('a:1', { commit: 20, applied: 20 });
    expect(await indexes.indexesOf(2, 'a:1', DECK_PEER_INDEXES_REFRESH_MS - 1)).toEqual({
      commit: 10,
      applied: 9,
    });
    expect(ports.asked).toEqual(['a:1']);
    expect(await indexes.indexesOf(2, 'a:1', DECK_PEER_INDEXES_REFRESH_MS)).toEqual({
      commit: 20,
      applied: 20,
    });
    expect(ports.asked).toEqual(['a:1', 'a:1']);
  });

  it('asks a voter whose admin address changed at once', async () => {
    const ports = adminPorts();
    const indexes = new DeckPeerIndexes(ports.fetchIndexes);
    ports.answers.set('a:1', { commit: 10, applied: 9 });
    ports.answers.set('a:2', { commit: 30, applied: 30 });
    await indexes.indexesOf(2, 'a:1', 0);
    expect(await indexes.indexesOf(2, 'a:2', 1)).toEqual({ commit: 30, applied: 30 });
    expect(ports.asked).toEqual(['a:1', 'a:2']);
  });

  it('shares one ask among snapshots that overlap', async () => {
    const ports = adminPorts();
    const indexes = new DeckPeerIndexes(ports.fetchIndexes);
    ports.answers.set('a:1', { commit: 5, applied: 5 });
    ports.state.held = true;
    const first = indexes.indexesOf(2, 'a:1', 0);
    const second = indexes.indexesOf(2, 'a:1', 0);
    ports.release();
    expect(await first).toEqual({ commit: 5, applied: 5 });
    expect(await second).toEqual({ commit: 5, applied: 5 });
    expect(ports.asked).toEqual(['a:1']);
  });

  it('leaves out a voter that does not answer and asks it again at the next snapshot', async () => {
    const ports = adminPorts();
    const indexes = new DeckPeerIndexes(ports.fetchIndexes);
    ports.answers.set('a:1', { commit: 10, applied: 9 });
    await indexes.indexesOf(2, 'a:1', 0);
    ports.answers.delete('a:1');
    // Its old answer is not shown once it stops answering.
    expect(await indexes.indexesOf(2, 'a:1', DECK_PEER_INDEXES_REFRESH_MS)).toBeUndefined();
    ports.answers.set('a:1', { commit: 12, applied: 12 });
    expect(await indexes.indexesOf(2, 'a:1', DECK_PEER_INDEXES_REFRESH_MS + 1)).toEqual({
      commit: 12,
      applied: 12,
    });
    expect(ports.asked).toHaveLength(3);
  });

  it('forgets a node that is no longer a member', async () => {
    const ports = adminPorts();
    const indexes = new DeckPeerIndexes(ports.fetchIndexes);
    ports.answers.set('a:1', { commit: 10, applied: 9 });
    await indexes.indexesOf(2, 'a:1', 0);
    indexes.keepOnly(new Set([1, 3]));
    await indexes.indexesOf(2, 'a:1', 1);
    expect(ports.asked).toEqual(['a:1', 'a:1']);
  });
});
