/** Compares for the usual compare-and-swap shapes, so callers do not spell out counters. */
import type { ControlCompare } from './control-plane.js';

/** The key does not exist (its create revision is 0). */
export const absent = (key: string): ControlCompare => ({
  key,
  target: 'createRevision',
  operator: '=',
  operand: 0,
});

/** The key exists. */
export const present = (key: string): ControlCompare => ({
  key,
  target: 'createRevision',
  operator: '>',
  operand: 0,
});

/** The key was last changed at `revision` (0: absent): nobody wrote it since it was read. */
export const unchangedSince = (key: string, revision: number): ControlCompare => ({
  key,
  target: 'modRevision',
  operator: '=',
  operand: revision,
});

export const valueIs = (key: string, value: Uint8Array): ControlCompare => ({
  key,
  target: 'value',
  operator: '=',
  operand: value,
});
