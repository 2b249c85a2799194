import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { outputChainName } from '../../../src/daemons/chain-names.js';
import { MAX_OUTPUT_LAG_EVENTS } from '../../../src/mesh/daemon-requests.js';
import { until } from '../../support/until.js';
import { track } from '../server/promise-state.js';
import { bytes, type DaemonMesh, openDaemonMesh, SEND_TIMEOUT_MS, text } from './daemon-mesh.js';

/** Sends in flight at once while the output writer is held back. */
const SENDS_AT_ONCE = 128;

let mesh: DaemonMesh;
beforeEach(async () => {
  mesh = await openDaemonMesh([1]);
});
afterEach(async () => {
  await mesh.close();
});

const send = (value: number) =>
  mesh.node(1).requests.send('tally', { payload: bytes(String(value)) }, SEND_TIMEOUT_MS);

async function outputCount(): Promise<number> {
  let count = 0;
  for await (const _ of mesh.node(1).requests.outputs('tally', 0, false, new AbortController().signal))
    count++;
  return count;
}

/** How `answer` stands one turn after the member applied inbound offset `offset`. */
async function answeredOnceApplied(answer: Promise<unknown>, offset: number): Promise<string> {
  const state = track(answer);
  await until(
    async () => (await mesh.node(1).requests.state('tally')).appliedThrough > offset,
    `inbound offset ${offset} applied`,
  );
  await new Promise((resolve) => setImmediate(resolve));
  return state.outcome;
}

describe('a send and the output chain', () => {
  it('answers without waiting for its outputs to be written, until the writer lags MAX_OUTPUT_LAG_EVENTS behind', async () => {
    await mesh.node(1).requests.deploy({ name: 'tally', kind: 'counter', group: 'single', members: 1 });
    await send(1);
    await until(async () => (await outputCount()) === 1, 'the first output written');

    const release = mesh.chains.gateAppends(outputChainName('tally'));
    // Events at inbound offsets 1 .. MAX_OUTPUT_LAG_EVENTS answer while no output can be written.
    const lastWithinBound = MAX_OUTPUT_LAG_EVENTS;
    for (let first = 1; first < lastWithinBound; first += SENDS_AT_ONCE) {
      const last = Math.min(lastWithinBound - 1, first + SENDS_AT_ONCE - 1);
      const answers = await Promise.all(
        Array.from({ length: last - first + 1 }, (_, index) => send(first + index)),
      );
      expect(answers.map((answer) => answer.inboundOffset)).toEqual(
        Array.from({ length: last - first + 1 }, (_, index) => first + index),
      );
    }
    expect(await answeredOnceApplied(send(lastWithinBound), lastWithinBound)).toBe('resolved');
    expect(await outputCount()).toBe(1);

    // The next one is applied, but its answer waits for the writer to come within the bound.
    const lagging = send(0);
    expect(await answeredOnceApplied(lagging, lastWithinBound + 1)).toBe('pending');

    release();
    const result = await lagging;
    expect(result.inboundOffset).toBe(MAX_OUTPUT_LAG_EVENTS + 1);
    expect(result.outputs.map(text)).toEqual([
      String(((MAX_OUTPUT_LAG_EVENTS + 1) * MAX_OUTPUT_LAG_EVENTS) / 2 + 1),
    ]);
    await until(async () => (await outputCount()) === MAX_OUTPUT_LAG_EVENTS + 2, 'every output written');
  });
});
