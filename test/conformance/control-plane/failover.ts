/**
 * What only a store of several members can show: a watch resumes after the member serving it
 * dies, with every event exactly once and in order; a keep-alive survives the leader's death.
 */
import { describe, expect, it } from 'vitest';
import { until } from '../../support/until.js';
import { bytes, type ControlPlaneFixture, freshRoot } from './fixture.js';
import { describeEvent, takeEvents } from './suite.js';

export interface FailoverControls {
  /** kill -9 of the leader; answers a function that restarts it and waits for a leader. */
  killLeader(): Promise<() => Promise<void>>;
  waitForLeader(): Promise<void>;
}

const WRITES_EACH_SIDE = 10;
/** A kill, an election, the writes and events, and the restart's wait for a leader, on a loaded machine. */
const FAILOVER_TEST_TIMEOUT_MS = 150_000;

export function describeFailover(
  label: string,
  fixture: () => ControlPlaneFixture,
  controls: FailoverControls,
): void {
  describe(`control plane on ${label}: failover`, () => {
    it(
      'a watch resumes after the leader dies, delivering every change once and in order',
      async () => {
        const root = freshRoot(`${label}-failover`);
        const watcher = await fixture().open(root);
        let restart: (() => Promise<void>) | undefined;
        const writer = await fixture().open(root);
        try {
          const watch = await watcher.watch('f/');
          const expected: string[] = [];
          for (let index = 0; index < WRITES_EACH_SIDE; index++) {
            const written = await writer.put(`f/${index}`, bytes(String(index)));
            expected.push(`put f/${index}=${index}@${written.revision}`);
          }
          restart = await controls.killLeader();
          for (let index = WRITES_EACH_SIDE; index < 2 * WRITES_EACH_SIDE; index++) {
            const written = await writer.put(`f/${index}`, bytes(String(index)));
            expected.push(`put f/${index}=${index}@${written.revision}`);
          }
          const events = await takeEvents(watch, expected.length, 30_000);
          expect(events.map(describeEvent)).toEqual(expected);
          watch.cancel();
        } finally {
          await restart?.();
          await watcher.close();
          await writer.close();
        }
      },
      FAILOVER_TEST_TIMEOUT_MS,
    );

    it(
      'a keep-alive survives the leader dying: the lease and its key stay',
      async () => {
        const plane = await fixture().open(freshRoot(`${label}-keepalive`));
        let restart: (() => Promise<void>) | undefined;
        try {
          const lease = await plane.grantLease(4);
          await plane.put('held', bytes('yes'), { lease: lease.id });
          let lost = false;
          const keeper = plane.keepAlive(lease.id, { onLost: () => (lost = true) });
          await until(() => keeper.renewals >= 1, 'a first renewal');
          restart = await controls.killLeader();
          await controls.waitForLeader();
          const renewalsAfterElection = keeper.renewals;
          // Three more renewals (a whole TTL) after the new leader is known.
          await until(
            () => keeper.renewals >= renewalsAfterElection + 3 || lost,
            'renewals under the new leader',
            30_000,
          );
          expect(lost).toBe(false);
          expect((await plane.get('held'))?.lease).toBe(lease.id);
          expect(await plane.leaseTimeToLive(lease.id)).toBeDefined();
          keeper.stop();
          await plane.revokeLease(lease.id);
        } finally {
          await restart?.();
          await plane.close();
        }
      },
      FAILOVER_TEST_TIMEOUT_MS,
    );
  });
}
