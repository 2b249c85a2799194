import { assert, InputProblems } from '../lib/index.js';
import { MAX_EVENT_LISTENERS, MAX_EVENT_LOG_CAPACITY_EVENTS } from './constants.js';
import type { LifecycleAction, LifecycleEvent } from './lifecycle.js';

/** Counters over every lifecycle event of one supervision tree, as a plain object. */
export interface SupervisorMetrics {
  childStarts: number;
  childReady: number;
  childStartFailures: number;
  childCrashes: number;
  childNormalExits: number;
  restarts: number;
  restartsExhausted: number;
  childrenDisabled: number;
  escalations: number;
  drains: number;
  drainFailures: number;
  resumeStatesPersisted: number;
  childStops: number;
  forceStops: number;
  leaseReleases: number;
  leasesRevoked: number;
  eventsLogged: number;
  eventsDropped: number;
  listenerErrors: number;
}

const COUNTER_BY_ACTION: Partial<Record<LifecycleAction, keyof SupervisorMetrics>> = {
  'start-child': 'childStarts',
  'child-ready': 'childReady',
  'child-start-failed': 'childStartFailures',
  'child-crashed': 'childCrashes',
  'child-exited': 'childNormalExits',
  'restart-child': 'restarts',
  'restart-exhausted': 'restartsExhausted',
  'child-disabled': 'childrenDisabled',
  escalate: 'escalations',
  drain: 'drains',
  'drain-failed': 'drainFailures',
  'resume-state-persisted': 'resumeStatesPersisted',
  'stop-child': 'childStops',
  'force-stop': 'forceStops',
  'release-name-lease': 'leaseReleases',
  'lease-revoked': 'leasesRevoked',
};

export type EventListener = (event: LifecycleEvent) => void;

function zeroMetrics(): SupervisorMetrics {
  return {
    childStarts: 0,
    childReady: 0,
    childStartFailures: 0,
    childCrashes: 0,
    childNormalExits: 0,
    restarts: 0,
    restartsExhausted: 0,
    childrenDisabled: 0,
    escalations: 0,
    drains: 0,
    drainFailures: 0,
    resumeStatesPersisted: 0,
    childStops: 0,
    forceStops: 0,
    leaseReleases: 0,
    leasesRevoked: 0,
    eventsLogged: 0,
    eventsDropped: 0,
    listenerErrors: 0,
  };
}

/**
 * The bounded record of a supervision tree's lifecycle: a ring of the newest events, listeners
 * told of each one as it happens, and counters. Shared by a root supervisor and its nested ones.
 */
export class EventLog {
  private readonly ring: LifecycleEvent[] = [];
  private nextSequence = 1;
  private readonly listeners = new Set<EventListener>();
  private readonly counters = zeroMetrics();

  constructor(private readonly capacityEvents: number) {
    const problems = new InputProblems();
    problems.integer('capacityEvents', capacityEvents, 1, MAX_EVENT_LOG_CAPACITY_EVENTS);
    problems.throwIfAny('event log');
  }

  append(event: Omit<LifecycleEvent, 'sequence'>): LifecycleEvent {
    const recorded: LifecycleEvent = { sequence: this.nextSequence++, ...event };
    this.ring.push(recorded);
    if (this.ring.length > this.capacityEvents) {
      this.ring.shift();
      this.counters.eventsDropped++;
    }
    this.counters.eventsLogged++;
    const counter = COUNTER_BY_ACTION[event.action];
    if (counter !== undefined) this.counters[counter]++;
    for (const listener of this.listeners) {
      try {
        listener(recorded);
      } catch {
        // A listener's bug must not break supervision; it is counted instead.
        this.counters.listenerErrors++;
      }
    }
    return recorded;
  }

  /** The newest events, oldest first. */
  events(): LifecycleEvent[] {
    return [...this.ring];
  }

  subscribe(listener: EventListener): () => void {
    assert(this.listeners.size < MAX_EVENT_LISTENERS, `more than ${MAX_EVENT_LISTENERS} event listeners`);
    this.listeners.add(listener);
    return () => {
      this.listeners.delete(listener);
    };
  }

  metrics(): SupervisorMetrics {
    return { ...this.counters };
  }
}
