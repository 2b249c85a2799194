import { afterEach, describe, expect, it } from 'vitest';
import { type Clock, SystemClock } from '../../../src/lib/index.js';
import { type DaemonMesh, openDaemonMesh } from './daemon-mesh.js';

/** Real time and timers, with a wall clock that answers a fraction of a millisecond (as the simulator's does). */
class FractionalWallClock extends SystemClock implements Clock {
  override wallMs(): number {
    return super.wallMs() + 0.25;
  }
}

let mesh: DaemonMesh | undefined;
afterEach(async () => {
  await mesh?.close();
});

describe('deploy under a wall clock with fractions of a millisecond', () => {
  it('commits a definition every node can read (createdAtMs in whole milliseconds)', async () => {
    mesh = await openDaemonMesh([1, 2, 3], { clock: new FractionalWallClock() });
    await mesh.node(1).requests.deploy({ name: 'log', kind: 'journal', group: 'standby', members: 2 });
    // Before the fix the definition was written with createdAtMs 1.7e12 + 0.25, which the
    // definition codec refuses: every node skipped it and the daemon never ran.
    const listed = await mesh.node(2).requests.list();
    expect(listed.map((definition) => definition.name)).toEqual(['log']);
    expect(Number.isInteger(listed[0]!.createdAtMs)).toBe(true);
  });
});
