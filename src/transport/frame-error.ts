import { MeshError } from '../lib/index.js';

/** What was wrong with a frame; stable strings for logs, counters and tests. */
export type FrameProblem =
  | 'bad-magic'
  | 'bad-version'
  | 'unknown-type'
  | 'bad-flags'
  | 'oversized'
  | 'truncated'
  | 'bad-batch'
  | 'bad-handshake'
  | 'decoder-failed';

/** Malformed bytes from a peer. Always this type, never a crash: the connection is closed. */
export class FrameError extends MeshError {
  readonly problem: FrameProblem;

  constructor(problem: FrameProblem, message: string, details: Record<string, unknown> = {}) {
    super('BAD_FRAME', `bad frame (${problem}): ${message}`, { details: { problem, ...details } });
    this.problem = problem;
  }
}
