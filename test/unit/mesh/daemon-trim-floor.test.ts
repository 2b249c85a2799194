/**
 * Publishing a daemon's trim floor over an in-process control plane: the floor is the lowest
 * member's durable checkpoint, pinned at 0 by a member without one, never lowered, and a write
 * computed before a membership change does not land.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type ControlPlane, daemonKey, openControlPlane } from '../../../src/control/index.js';
import { encodeDaemonDefinition } from '../../../src/daemons/definition-codec.js';
import {
  decodeTrimOffset,
  trimCheckpointKey,
  trimFloorKey,
  trimPinsPrefix,
} from '../../../src/daemons/trim-floor.js';
import type { DaemonDefinition } from '../../../src/daemons/types.js';
import { ManualClock } from '../../../src/lib/index.js';
import {
  claimTrimStart,
  FORK_PIN_TTL_SECONDS,
  pinTrimFloor,
  publishTrimFloor,
  readTrimFloor,
} from '../../../src/mesh/daemon-trim-floor.js';
import { standbyDefinition } from '../../support/daemon-definition.js';
import { LocalKvBackend } from '../../support/local-kv-backend.js';

const CHAIN = 'daemon.log.inbound';
let clock: ManualClock;
let backend: LocalKvBackend;
let plane: ControlPlane;

async function define(definition: DaemonDefinition): Promise<void> {
  await plane.put(daemonKey(definition.name), encodeDaemonDefinition(definition));
}

beforeEach(async () => {
  clock = new ManualClock();
  backend = new LocalKvBackend({ clock });
  plane = await openControlPlane({ kind: 'in-process', backend, clock });
});

afterEach(async () => {
  await plane.close();
  backend.close();
});

describe('publishTrimFloor', () => {
  it('stays at 0 until every member has a checkpoint, then follows the lowest', async () => {
    await define(standbyDefinition());
    expect(await publishTrimFloor(plane, 'log', 1, 400)).toBe(0);
    expect(await readTrimFloor(plane, CHAIN)).toBe(0);
    expect(await publishTrimFloor(plane, 'log', 2, 250)).toBe(250);
    expect(await readTrimFloor(plane, CHAIN)).toBe(250);
    expect(await publishTrimFloor(plane, 'log', 2, 900)).toBe(400);
    expect(await readTrimFloor(plane, CHAIN)).toBe(400);
  });

  it('never lowers the floor: a member added later pins nothing below it', async () => {
    await define(standbyDefinition());
    await publishTrimFloor(plane, 'log', 1, 400);
    await publishTrimFloor(plane, 'log', 2, 500);
    expect(await readTrimFloor(plane, CHAIN)).toBe(400);
    await define(
      standbyDefinition({
        members: [
          { index: 0, node: 1 },
          { index: 1, node: 2 },
          { index: 2, node: 3 },
        ],
      }),
    );
    // Node 3 has no checkpoint yet: the computed floor is 0, the stored one stays.
    expect(await publishTrimFloor(plane, 'log', 1, 1_000)).toBe(400);
    expect(await publishTrimFloor(plane, 'log', 3, 700)).toBe(500);
  });

  it('ignores a node that is not a member, and daemons that are not trimmed', async () => {
    await define(standbyDefinition());
    expect(await publishTrimFloor(plane, 'log', 9, 5_000)).toBeUndefined();
    expect(await plane.get(trimFloorKey(CHAIN))).toBeUndefined();
    const { active: _none, ...replica } = standbyDefinition({ name: 'rep', group: 'replica' });
    await define(replica);
    expect(await publishTrimFloor(plane, 'rep', 1, 5_000)).toBeUndefined();
    expect(await publishTrimFloor(plane, 'gone', 1, 5_000)).toBeUndefined();
  });

  it('stores the floor as fixed-width digits', async () => {
    await define(standbyDefinition());
    await publishTrimFloor(plane, 'log', 1, 12);
    await publishTrimFloor(plane, 'log', 2, 34);
    const entry = await plane.get(trimFloorKey(CHAIN));
    expect(new TextDecoder().decode(entry?.value)).toBe('00000000000000000012');
    expect(decodeTrimOffset(entry!.value)).toBe(12);
  });
});

describe('claimTrimStart', () => {
  const recordOf = async (node: number) => {
    const entry = await plane.get(trimCheckpointKey(CHAIN, node));
    return entry === undefined ? undefined : decodeTrimOffset(entry.value);
  };

  it("replaces a node's stale record with where its member starts; the floor stays and is answered", async () => {
    await define(standbyDefinition());
    await publishTrimFloor(plane, 'log', 1, 800);
    await publishTrimFloor(plane, 'log', 2, 500);
    expect(await readTrimFloor(plane, CHAIN)).toBe(500);
    // Node 1 came back on a fresh disk: its member starts at 0, below the floor.
    expect(await claimTrimStart(plane, 'log', 1, 0)).toBe(500);
    expect(await recordOf(1)).toBe(0);
    expect(await readTrimFloor(plane, CHAIN)).toBe(500);
    // With the stale 800 gone, node 2's later checkpoint cannot lift the floor past node 1's start.
    expect(await publishTrimFloor(plane, 'log', 2, 900)).toBe(500);
    // Node 1 restored a checkpoint at 600 fetched from node 2: the floor follows it, not 800.
    expect(await claimTrimStart(plane, 'log', 1, 600)).toBe(500);
    expect(await publishTrimFloor(plane, 'log', 2, 1_000)).toBe(600);
  });

  it('answers 0 before any floor, and nothing for a non-member or an untrimmed daemon', async () => {
    await define(standbyDefinition());
    expect(await claimTrimStart(plane, 'log', 2, 0)).toBe(0);
    expect(await recordOf(2)).toBe(0);
    expect(await claimTrimStart(plane, 'log', 9, 0)).toBeUndefined();
    expect(await recordOf(9)).toBeUndefined();
    const { active: _none, ...replica } = standbyDefinition({ name: 'rep', group: 'replica' });
    await define(replica);
    expect(await claimTrimStart(plane, 'rep', 1, 0)).toBeUndefined();
  });

  it("fails a floor write computed from the record it replaced (the floor's mod revision moved)", async () => {
    await define(standbyDefinition());
    await publishTrimFloor(plane, 'log', 1, 800);
    await publishTrimFloor(plane, 'log', 2, 500);
    const before = await plane.get(trimFloorKey(CHAIN));
    await claimTrimStart(plane, 'log', 1, 0);
    const after = await plane.get(trimFloorKey(CHAIN));
    expect(after!.modRevision).toBeGreaterThan(before!.modRevision);
    expect(decodeTrimOffset(after!.value)).toBe(500);
  });
});

describe('pinTrimFloor', () => {
  it("holds the floor at or below a fork's start until released", async () => {
    await define(standbyDefinition());
    const pin = await pinTrimFloor(plane, 'log', 'branch', 250);
    expect(pin.floor).toBe(0);
    await publishTrimFloor(plane, 'log', 1, 400);
    expect(await publishTrimFloor(plane, 'log', 2, 500)).toBe(250);
    expect(await readTrimFloor(plane, CHAIN)).toBe(250);
    await pin.release();
    expect((await plane.range(trimPinsPrefix(CHAIN))).entries).toEqual([]);
    expect(await publishTrimFloor(plane, 'log', 1, 600)).toBe(500);
  });

  it('answers the floor in force (a start below it may have lost its records), and nothing for an untrimmed parent', async () => {
    await define(standbyDefinition());
    await publishTrimFloor(plane, 'log', 1, 400);
    await publishTrimFloor(plane, 'log', 2, 500);
    const late = await pinTrimFloor(plane, 'log', 'late', 100);
    expect(late.floor).toBe(400);
    await late.release();
    const { active: _none, ...replica } = standbyDefinition({ name: 'rep', group: 'replica' });
    await define(replica);
    const none = await pinTrimFloor(plane, 'rep', 'branch', 0);
    expect(none.floor).toBeUndefined();
    await none.release();
  });

  it('puts the pin under a lease, so a builder that dies leaves nothing once the lease expires', async () => {
    await define(standbyDefinition());
    await pinTrimFloor(plane, 'log', 'branch', 250);
    const [entry] = (await plane.range(trimPinsPrefix(CHAIN))).entries;
    expect(entry!.lease).toBeGreaterThan(0);
    const ttl = await plane.leaseTimeToLive(entry!.lease);
    expect(ttl!.remainingSeconds).toBeLessThanOrEqual(FORK_PIN_TTL_SECONDS);
  });
});
