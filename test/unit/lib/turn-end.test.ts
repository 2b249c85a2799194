import { describe, expect, it } from 'vitest';
import { TurnEnd } from '../../../src/lib/node/index.js';

/** Resolves in a later immediate than every one queued so far (and their microtasks). */
function afterQueuedImmediates(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

describe('TurnEnd', () => {
  it("runs a turn's deferred work in order, with the work that work defers, then the writes", async () => {
    const turnEnd = new TurnEnd();
    const events: string[] = [];
    turnEnd.deferWrite(() => events.push('write'));
    turnEnd.defer(() => {
      events.push('work 1');
      turnEnd.defer(() => events.push('work deferred by work 1'));
    });
    turnEnd.defer(() => events.push('work 2'));
    expect(events).toEqual([]);
    // An immediate queued after the first defer runs after the whole round.
    await afterQueuedImmediates();
    expect(events).toEqual(['work 1', 'work 2', 'work deferred by work 1', 'write']);
  });

  it('writes what the promise reactions of the work sent, in the same round', async () => {
    const turnEnd = new TurnEnd();
    const events: string[] = [];
    let writes = 0;
    const send = (message: string): void => {
      events.push(`send ${message}`);
      turnEnd.deferWrite(() => {
        writes++;
        events.push(`write after ${message}`);
      });
    };
    turnEnd.defer(() => {
      send('push');
      // An acknowledgement of writes already durable: a reaction the work started at once.
      void Promise.resolve().then(() => send('ack'));
    });
    await afterQueuedImmediates();
    expect(events).toEqual(['send push', 'send ack', 'write after push', 'write after ack']);
    expect(writes).toBe(2);
  });

  it('runs the deferred writes at once on writeNow, before the loop blocks, and not again', async () => {
    const turnEnd = new TurnEnd();
    const events: string[] = [];
    turnEnd.defer(() => {
      turnEnd.deferWrite(() => events.push('push written'));
      // What a sync on the event loop does first.
      turnEnd.writeNow();
      events.push('inline sync');
    });
    await afterQueuedImmediates();
    expect(events).toEqual(['push written', 'inline sync']);
  });

  it('on writeAfterReactions, writes what chained promise reactions sent before the next immediate', async () => {
    const turnEnd = new TurnEnd();
    const events: string[] = [];
    let writes = 0;
    // Work in an immediate of its own (a Raft drain) settles a proposal; the answer to it is sent
    // two reactions later. Without the call it would be written after the next immediate.
    setImmediate(() => {
      let settle: () => void = () => {};
      void new Promise<void>((resolve) => {
        settle = resolve;
      })
        .then(() => undefined)
        .then(() =>
          turnEnd.deferWrite(() => {
            writes++;
            events.push('answer written');
          }),
        );
      settle();
      turnEnd.writeAfterReactions();
      setImmediate(() => events.push('next immediate'));
    });
    for (let turn = 0; turn < 5 && events.length < 2; turn++) await afterQueuedImmediates();
    await afterQueuedImmediates();
    expect(events).toEqual(['answer written', 'next immediate']);
    expect(writes).toBe(1);
  });

  it('runs work deferred once the round is over in a later turn', async () => {
    const turnEnd = new TurnEnd();
    const events: string[] = [];
    turnEnd.defer(() => events.push('first'));
    await afterQueuedImmediates();
    turnEnd.defer(() => events.push('second'));
    expect(events).toEqual(['first']);
    await afterQueuedImmediates();
    expect(events).toEqual(['first', 'second']);
  });
});
