import { assert } from '../../lib/index.js';
import type { DaemonEvent } from '../daemon.js';

/**
 * The inbound events an active applied since the oldest snapshot a standby may still need,
 * each tagged with its inbound position. A ring of fixed capacity: it never grows; the group
 * decides what to do when it is full.
 */
export class ReplayBuffer {
  private readonly events: (DaemonEvent | undefined)[];
  private readonly positions: Float64Array;
  private start = 0;
  private count = 0;

  constructor(readonly capacityEvents: number) {
    assert(Number.isInteger(capacityEvents) && capacityEvents > 0, 'replay buffer capacity must be positive');
    this.events = new Array<DaemonEvent | undefined>(capacityEvents).fill(undefined);
    this.positions = new Float64Array(capacityEvents);
  }

  get size(): number {
    return this.count;
  }

  get full(): boolean {
    return this.count === this.capacityEvents;
  }

  /** Position of the newest buffered event, or undefined when empty. */
  get lastPosition(): number | undefined {
    if (this.count === 0) return undefined;
    return this.positions[(this.start + this.count - 1) % this.capacityEvents];
  }

  push(event: DaemonEvent, position: number): void {
    assert(
      this.count < this.capacityEvents,
      'replay buffer overflow: the group must check before delivering',
    );
    const last = this.lastPosition;
    assert(last === undefined || position === last + 1, () => `replay position ${position} after ${last}`);
    const slot = (this.start + this.count) % this.capacityEvents;
    this.events[slot] = event;
    this.positions[slot] = position;
    this.count++;
  }

  /** Drops every event at or before `position`. */
  dropThrough(position: number): void {
    while (this.count > 0 && this.positions[this.start]! <= position) {
      this.events[this.start] = undefined;
      this.start = (this.start + 1) % this.capacityEvents;
      this.count--;
    }
  }

  /** The buffered events with a position strictly after `position`, oldest first. */
  after(position: number): { readonly event: DaemonEvent; readonly position: number }[] {
    const result: { event: DaemonEvent; position: number }[] = [];
    for (let offset = 0; offset < this.count; offset++) {
      const slot = (this.start + offset) % this.capacityEvents;
      const eventPosition = this.positions[slot]!;
      if (eventPosition > position) result.push({ event: this.events[slot]!, position: eventPosition });
    }
    return result;
  }
}
