import { assert } from '../lib/index.js';

/** One scheduled action of the simulation. `label` names it in the trace. */
export interface SimEvent {
  readonly timeUs: number;
  readonly sequence: number;
  readonly label: string;
  /** Numbers that complete the label in the trace (-1: absent); kept apart to avoid building strings. */
  readonly first: number;
  readonly second: number;
  readonly third: number;
  readonly action: () => void;
}

/**
 * The discrete event queue: a binary min-heap ordered by time, ties broken by insertion
 * sequence, so two runs that schedule the same events in the same order pop them in the
 * same order. Its size is bounded because an unbounded queue would hide a runaway feedback
 * loop (for example a message storm) behind ever-growing memory.
 */
export class EventQueue {
  private readonly heap: SimEvent[] = [];
  private nextSequence = 0;
  private readonly maxEvents: number;

  constructor(maxEvents: number) {
    assert(Number.isInteger(maxEvents) && maxEvents > 0, `maxEvents must be a positive integer`);
    this.maxEvents = maxEvents;
  }

  get size(): number {
    return this.heap.length;
  }

  push(timeUs: number, label: string, action: () => void, first = -1, second = -1, third = -1): SimEvent {
    assert(this.heap.length < this.maxEvents, `event queue is full (${this.maxEvents} events)`);
    const event: SimEvent = { timeUs, sequence: this.nextSequence++, label, first, second, third, action };
    const heap = this.heap;
    heap.push(event);
    let index = heap.length - 1;
    while (index > 0) {
      const parentIndex = (index - 1) >> 1;
      const parent = heap[parentIndex]!;
      if (!before(event, parent)) break;
      heap[index] = parent;
      index = parentIndex;
    }
    heap[index] = event;
    return event;
  }

  peek(): SimEvent | undefined {
    return this.heap[0];
  }

  pop(): SimEvent | undefined {
    const heap = this.heap;
    const top = heap[0];
    if (top === undefined) return undefined;
    const last = heap.pop()!;
    if (heap.length > 0) {
      let index = 0;
      const length = heap.length;
      for (;;) {
        const left = 2 * index + 1;
        if (left >= length) break;
        const right = left + 1;
        let child = left;
        if (right < length && before(heap[right]!, heap[left]!)) child = right;
        if (!before(heap[child]!, last)) break;
        heap[index] = heap[child]!;
        index = child;
      }
      heap[index] = last;
    }
    return top;
  }
}

function before(a: SimEvent, b: SimEvent): boolean {
  return a.timeUs < b.timeUs || (a.timeUs === b.timeUs && a.sequence < b.sequence);
}
