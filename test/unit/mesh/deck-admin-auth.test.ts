import { describe, expect, it } from 'vitest';
import { isMeshError } from '../../../src/lib/index.js';
import { deckAdminAnswers } from '../../../src/mesh/deck-admin.js';
import type { NodeParts } from '../../../src/mesh/node-parts.js';

const MAINTENANCE_BODY = { node: '2', target: 'enter' };
const MOVE_BODY = { daemon: 'counter', to: '2' };

async function refusal(run: () => Promise<unknown>): Promise<unknown> {
  try {
    await run();
  } catch (error) {
    return error;
  }
  throw new Error('the action was not refused');
}

describe('the Deck actions on the admin port under auth', () => {
  it('refuses both actions on a voter while auth is on, naming the CLI way', async () => {
    const parts = { backend: { auth: { enabled: true } } } as unknown as NodeParts;
    const { actions } = deckAdminAnswers(parts, 'voter');
    for (const [path, body] of [
      ['/actions/maintenance', MAINTENANCE_BODY],
      ['/actions/daemon-move', MOVE_BODY],
    ] as const) {
      const error = await refusal(() => actions[path]!(body));
      expect(isMeshError(error, 'ADMIN_ACTIONS_NEED_AUTH_OFF')).toBe(true);
      expect((error as Error).message).toContain('--user');
    }
  });

  it('refuses on a worker when its control plane says auth is on, and goes on when it is off', async () => {
    let enabled = true;
    const parts: NodeParts = { workerAuthStatus: async () => ({ enabled }) };
    const { actions } = deckAdminAnswers(parts, 'worker');
    const refused = await refusal(() => actions['/actions/maintenance']!(MAINTENANCE_BODY));
    expect(isMeshError(refused, 'ADMIN_ACTIONS_NEED_AUTH_OFF')).toBe(true);
    enabled = false;
    // Past the check: this node has no control plane, so the action fails further on.
    const further = await refusal(() => actions['/actions/maintenance']!(MAINTENANCE_BODY));
    expect(isMeshError(further, 'ADMIN_ACTIONS_NEED_AUTH_OFF')).toBe(false);
  });
});
