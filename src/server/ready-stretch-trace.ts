import type { StepDetails } from '../lib/index.js';
import type { Ready } from '../raft/index.js';

/** The parts of a Ready stretch that are timed, in the order a Ready goes through them. */
export const READY_PHASES = ['core', 'send', 'write', 'apply', 'reads', 'flush'] as const;
export type ReadyPhase = (typeof READY_PHASES)[number];

/**
 * What one drain's synchronous stretch of Readys did: how many Readys, entries applied and
 * appended, messages sent, reads confirmed, and the time in each phase. A stretch that holds the
 * event loop past the stall bound is logged with these (docs/SERVER.md), so a long `ready` step
 * says whether it was a big apply, a big send, a slow flush or the node being descheduled (the
 * phases then add up to little CPU work for the time). Counting costs a few field updates and
 * one clock read per phase; the details object is built only for a long stretch.
 */
export class ReadyStretchTrace {
  private readys = 0;
  private applied = 0;
  private appliedBytes = 0;
  private appended = 0;
  private appendedBytes = 0;
  private messages = 0;
  private readStates = 0;
  private readonly phaseMs = new Float64Array(READY_PHASES.length);

  /** Starts a new stretch. */
  reset(): void {
    this.readys = 0;
    this.applied = 0;
    this.appliedBytes = 0;
    this.appended = 0;
    this.appendedBytes = 0;
    this.messages = 0;
    this.readStates = 0;
    this.phaseMs.fill(0);
  }

  /** Counts what `ready` carries. */
  countReady(ready: Ready): void {
    this.readys++;
    this.applied += ready.committedEntries.length;
    // Few entries of many bytes are large transactions; few tiny ones are commands such as a
    // compaction step, whose apply does more than its size says.
    for (const entry of ready.committedEntries) this.appliedBytes += entry.data.byteLength;
    this.appended += ready.entries.length;
    for (const entry of ready.entries) this.appendedBytes += entry.data.byteLength;
    this.messages += ready.messages.length + ready.messagesAfterPersist.length;
    this.readStates += ready.readStates.length;
  }

  /** Adds the time since `sinceMs` to `phase`; returns `nowMs` for the next phase to start from. */
  phase(phase: ReadyPhase, sinceMs: number, nowMs: number): number {
    const slot = READY_PHASES.indexOf(phase);
    this.phaseMs[slot] = (this.phaseMs[slot] ?? 0) + (nowMs - sinceMs);
    return nowMs;
  }

  details(): StepDetails {
    const details: Record<string, number> = {
      readys: this.readys,
      applied: this.applied,
      appliedBytes: this.appliedBytes,
      appended: this.appended,
      appendedBytes: this.appendedBytes,
      messages: this.messages,
      readStates: this.readStates,
    };
    for (const [slot, phase] of READY_PHASES.entries())
      details[`${phase}Ms`] = Math.round((this.phaseMs[slot] ?? 0) * 100) / 100;
    return details;
  }
}
