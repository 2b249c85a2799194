/** Daemon definitions for unit tests that need one as the control plane would store it. */
import type { DaemonDefinition } from '../../src/daemons/types.js';

/**
 * A `journal` standby group of two hot members on nodes 1 and 2, member 0 active, at epoch 1;
 * a test overrides what it is about.
 */
export function standbyDefinition(overrides: Partial<DaemonDefinition> = {}): DaemonDefinition {
  return {
    name: 'log',
    kind: 'journal',
    group: 'standby',
    config: undefined,
    members: [
      { index: 0, node: 1 },
      { index: 1, node: 2 },
    ],
    active: 0,
    standbyMode: 'hot',
    acks: 'quorum',
    epoch: 1,
    createdAtMs: 0,
    ...overrides,
  };
}
