import { describe, expect, it } from 'vitest';
import { SeededRandom, SystemClock } from '../../../src/lib/index.js';
import { type NodeService, ServiceTree } from '../../../src/mesh/index.js';

/** Short, so the test does not wait long; the close that outlives it never settles at all. */
const SHUTDOWN_TIMEOUT_MS = 50;

function service(name: string, close: () => Promise<void>): NodeService {
  return {
    name,
    role: `test service ${name}`,
    policy: 'restartable',
    shutdownTimeoutMs: SHUTDOWN_TIMEOUT_MS,
    open: async () => ({ close }),
  };
}

describe('ServiceTree.abandoned', () => {
  it('names the service whose close outlived its shutdown timeout, and only that one', async () => {
    const closed: string[] = [];
    const tree = new ServiceTree(
      [
        service('prompt', async () => {
          closed.push('prompt');
        }),
        service('stuck', () => new Promise<void>(() => {})),
      ],
      { clock: new SystemClock(), random: new SeededRandom(1) },
    );
    await tree.start();
    expect(tree.abandoned()).toEqual([]);
    await tree.stop('test stop');
    expect(closed).toEqual(['prompt']);
    expect(tree.abandoned()).toHaveLength(1);
    expect(tree.abandoned()[0]).toMatch(new RegExp(`^stuck: .*${SHUTDOWN_TIMEOUT_MS} ms`));
  });
});
