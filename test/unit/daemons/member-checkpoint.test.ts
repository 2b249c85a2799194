import { describe, expect, it } from 'vitest';
import type { DaemonDefinition } from '../../../src/daemons/index.js';
import {
  decodeMemberCheckpoint,
  encodeMemberCheckpoint,
  type MemberCheckpoint,
} from '../../../src/daemons/member-checkpoint.js';
import { checkMoveTarget } from '../../../src/daemons/move-target.js';
import { standbyDefinition } from '../../support/daemon-definition.js';
import { thrownCode } from '../../support/error-code.js';

const checkpoint: MemberCheckpoint = {
  createdAtMs: 1_764_000_000_000,
  epochSeen: 3,
  appliedThrough: 1_234,
  snapshot: new Uint8Array([1, 2, 3, 250, 0, 7]),
};

describe('member checkpoint codec', () => {
  it('round-trips every field', () => {
    expect(decodeMemberCheckpoint(encodeMemberCheckpoint(checkpoint))).toEqual(checkpoint);
  });

  it('refuses a damaged, truncated or extended checkpoint with DAEMON_CHECKPOINT_INVALID', () => {
    const bytes = encodeMemberCheckpoint(checkpoint);
    for (let at = 0; at < bytes.length; at++) {
      const damaged = bytes.slice();
      damaged[at] = (damaged[at] as number) ^ 0x10;
      expect(thrownCode(() => decodeMemberCheckpoint(damaged))).toBe('DAEMON_CHECKPOINT_INVALID');
    }
    for (let length = 0; length < bytes.length; length++)
      expect(thrownCode(() => decodeMemberCheckpoint(bytes.subarray(0, length)))).toBe(
        'DAEMON_CHECKPOINT_INVALID',
      );
    const extended = new Uint8Array(bytes.length + 1);
    extended.set(bytes);
    expect(thrownCode(() => decodeMemberCheckpoint(extended))).toBe('DAEMON_CHECKPOINT_INVALID');
  });
});

describe('move target checks', () => {
  const definition: DaemonDefinition = standbyDefinition({ createdAtMs: 1 });
  const nodes = [
    { id: 1, healthy: true },
    { id: 2, healthy: true },
    { id: 3, healthy: true },
    { id: 4, healthy: false },
  ];

  it("answers the active's node for a healthy other node, with or without a member there", () => {
    expect(checkMoveTarget(definition, 3, nodes)).toBe(1);
    expect(checkMoveTarget(definition, 2, nodes)).toBe(1);
  });

  it('refuses an unknown node, an unhealthy node, the active node and a group without an active', () => {
    expect(thrownCode(() => checkMoveTarget(definition, 9, nodes))).toBe('DAEMON_MOVE_TARGET_UNKNOWN');
    expect(thrownCode(() => checkMoveTarget(definition, 4, nodes))).toBe('DAEMON_MOVE_TARGET_UNHEALTHY');
    expect(thrownCode(() => checkMoveTarget(definition, 1, nodes))).toBe('DAEMON_MOVE_ALREADY_THERE');
    const { active: _active, ...replica } = definition;
    expect(thrownCode(() => checkMoveTarget({ ...replica, group: 'replica' }, 3, nodes))).toBe(
      'DAEMON_MOVE_FAILED',
    );
  });
});
