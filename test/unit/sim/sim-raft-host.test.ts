import { describe, expect, it } from 'vitest';
import { SeededRandom } from '../../../src/lib/index.js';
import type { Message } from '../../../src/raft/index.js';
import {
  type ClientResponse,
  InvariantChecker,
  Scheduler,
  SimRaftHost,
  type SimRaftSettings,
  Trace,
} from '../../../src/sim/index.js';

const SETTINGS: SimRaftSettings = {
  electionTicks: 10,
  heartbeatTicks: 3,
  preVote: false,
  checkQuorum: false,
  maxInflightMessages: 8,
  maxInflightBytes: 1 << 20,
  maxAppendBytes: 1 << 20,
  unsafeCommitByCountingOlderTerms: false,
  unsafeLocalReads: false,
};
const FSYNC_US = 5_000;

/** A one-node cluster whose fsyncs take FSYNC_US and whose torn writes keep `tornEntries`. */
function singleNode(tornEntries: number) {
  const scheduler = new Scheduler(new Trace(0));
  const sent: Message[] = [];
  const host = new SimRaftHost(
    1,
    { voters: [1], learners: [], outgoingVoters: [] },
    {
      scheduler,
      random: new SeededRandom(1),
      settings: SETTINGS,
      invariants: new InvariantChecker(),
      tickIntervalUs: 10_000,
      send: (message) => sent.push(message),
      fsyncDelayUs: () => FSYNC_US,
      tornWriteEntries: (count) => Math.min(count, tornEntries),
    },
  );
  const runUntil = (condition: () => boolean, limitUs = 5_000_000): void => {
    const endUs = scheduler.nowUs + limitUs;
    while (!condition() && scheduler.runNext(endUs)) {
      // keep going
    }
  };
  const put = (sequence: number, value: string): ClientResponse[] => {
    const answers: ClientResponse[] = [];
    host.handleClientRequest(
      {
        clientId: 'c0',
        sequence,
        attemptId: `c0:${sequence}:1`,
        attempt: 1,
        command: { kind: 'put', key: 'x', value },
      },
      (response) => answers.push(response),
    );
    return answers;
  };
  const restartAsLeader = (): void => {
    host.start();
    runUntil(() => host.isLeader);
    // Let the new term's first entry commit, which re-applies the durable log.
    runUntil(() => host.stateMachine.applied >= host.storage.lastIndex(), 1_000_000);
  };
  host.start();
  runUntil(() => host.isLeader);
  return { scheduler, host, runUntil, put, restartAsLeader };
}

describe('SimRaftHost durability model', () => {
  it('acknowledges a write only after its fsync, and keeps it across a crash', () => {
    const node = singleNode(0);
    const answers = node.put(1, 'a');
    expect(answers).toEqual([]);
    node.runUntil(() => answers.length > 0);
    expect(answers[0]?.kind).toBe('ok');
    node.host.crash();
    node.restartAsLeader();
    expect(node.host.stateMachine.read('x')).toBe('a');
  });

  it('loses a write whose fsync had not completed when the node crashed', () => {
    const node = singleNode(0);
    const lastBefore = node.host.storage.lastIndex();
    const answers = node.put(1, 'a');
    node.host.crash();
    expect(node.host.storage.lastIndex()).toBe(lastBefore);
    node.restartAsLeader();
    expect(answers).toEqual([]);
    expect(node.host.stateMachine.read('x')).toBeNull();
  });

  it('keeps a torn prefix of the entries but not the hard state', () => {
    const node = singleNode(1);
    const lastBefore = node.host.storage.lastIndex();
    const commitBefore = node.host.storage.hardStateNow().commit;
    node.put(1, 'a');
    node.host.crash();
    expect(node.host.storage.lastIndex()).toBe(lastBefore + 1);
    expect(node.host.storage.hardStateNow().commit).toBe(commitBefore);
  });

  it('handles nothing while paused and catches up afterwards', () => {
    const node = singleNode(0);
    node.host.pause(node.scheduler.nowUs + 100_000);
    const answers = node.put(1, 'a');
    node.runUntil(() => node.scheduler.nowUs >= node.host.pausedUntil - 1, 200_000);
    expect(answers).toEqual([]);
    node.runUntil(() => answers.length > 0);
    expect(answers[0]?.kind).toBe('ok');
    expect(node.scheduler.nowUs).toBeGreaterThanOrEqual(node.host.pausedUntil);
  });
});
