import { describe, expect, it } from 'vitest';
import { EventLog } from '../../../src/supervisor/index.js';

const base = { timeMs: 0, wallMs: 0, supervisor: 'root', phase: 'Running' as const };

describe('EventLog', () => {
  it('keeps only the newest events, numbers every event and counts the dropped ones', () => {
    const log = new EventLog(3);
    for (let index = 0; index < 5; index++)
      log.append({ ...base, action: 'child-crashed', child: `c${index}` });
    expect(log.events().map((event) => [event.sequence, event.child])).toEqual([
      [3, 'c2'],
      [4, 'c3'],
      [5, 'c4'],
    ]);
    expect(log.metrics()).toMatchObject({ eventsLogged: 5, eventsDropped: 2, childCrashes: 5 });
  });

  it('tells listeners of each event, survives a throwing listener, and stops after unsubscribe', () => {
    const log = new EventLog(10);
    const seen: string[] = [];
    const unsubscribe = log.subscribe((event) => seen.push(event.action));
    log.subscribe(() => {
      throw new Error('listener bug');
    });
    log.append({ ...base, action: 'force-stop', child: 'a', reason: 'ignored abort' });
    unsubscribe();
    log.append({ ...base, action: 'drain-failed', child: 'a' });
    expect(seen).toEqual(['force-stop']);
    expect(log.metrics()).toMatchObject({ forceStops: 1, drainFailures: 1, listenerErrors: 2 });
  });

  it('returns metrics as a plain copy', () => {
    const log = new EventLog(10);
    const snapshot = log.metrics();
    log.append({ ...base, action: 'escalate' });
    expect(snapshot.escalations).toBe(0);
    expect(log.metrics().escalations).toBe(1);
  });
});
