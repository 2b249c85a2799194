import { describe, expect, it } from 'vitest';
import { ChainUnavailableError } from '../../../src/chains/index.js';
import { outputChainName } from '../../../src/daemons/chain-names.js';
import { decodeOutputRecord } from '../../../src/daemons/index.js';
import { type EventApplier, MemberCore } from '../../../src/daemons/member-core.js';
import { ManualClock } from '../../../src/lib/index.js';
import {
  OUTPUT_LINGER_MS,
  OUTPUT_RETRY_DELAY_MS,
  OutputWriter,
} from '../../../src/mesh/daemon-output-writer.js';
import { FakeChainsBackend } from '../../support/fake-chains-backend.js';
import { until } from '../../support/until.js';

const bytes = (text: string): Uint8Array => new TextEncoder().encode(text);
/** Far longer than the test: a wait that ran to it would fail the test by its own timeout. */
const LONG_WAIT_MS = 600_000;

/** An applier whose one output of an event is its payload. */
const echoApplier = (): EventApplier => ({
  apply: async (record) => ({ outputs: [record.payload], duplicate: false }),
  state: () => new Uint8Array(0),
  saturation: () => 0,
  snapshot: () => new Uint8Array(0),
});

describe('the output writer of a new active', () => {
  it('does not hold a send while it is still finding the output chain end, and writes its outputs once found', async () => {
    const chains = new FakeChainsBackend();
    const chain = outputChainName('d');
    await chains.create({ name: chain, replicas: 3, acks: 'quorum' });
    // The output chain's leader is failing over: asking where the chain ends fails for now.
    chains.failNext('status', new ChainUnavailableError(chain, 'its leader is gone'), 1_000);
    const core = new MemberCore(echoApplier());
    const clock = new ManualClock();
    const writer = new OutputWriter({
      daemon: 'd',
      chain,
      chains,
      core,
      mayWrite: () => true,
      clock,
      lingerMs: 0,
    });
    writer.start();
    await core.apply(0, { epoch: 2, payload: bytes('a') });
    writer.notify();
    expect(await writer.waitWritten(0, LONG_WAIT_MS)).toBe(false);

    chains.clearFailures();
    clock.advance(OUTPUT_RETRY_DELAY_MS);
    await until(
      async () => (await chains.read(chain, 0, 10, 1 << 20)).records.length > 0,
      'the output written',
    );
    const { records } = await chains.read(chain, 0, 10, 1 << 20);
    expect(records.map((record) => decodeOutputRecord(record.payload))).toEqual([
      { inboundOffset: 0, index: 0, payload: bytes('a') },
    ]);
    expect(await writer.waitWritten(0, LONG_WAIT_MS)).toBe(true);
    writer.stop();
  });

  it('writes nothing while the member may not act as the active', async () => {
    const chains = new FakeChainsBackend();
    const chain = outputChainName('d');
    await chains.create({ name: chain, replicas: 3, acks: 'quorum' });
    const core = new MemberCore(echoApplier());
    const clock = new ManualClock();
    let serves = false;
    const writer = new OutputWriter({
      daemon: 'd',
      chain,
      chains,
      core,
      mayWrite: () => serves,
      clock,
      lingerMs: 0,
    });
    writer.start();
    await core.apply(0, { epoch: 1, payload: bytes('a') });
    writer.notify();
    for (let round = 0; round < 3; round++) {
      clock.advance(OUTPUT_RETRY_DELAY_MS);
      await new Promise((resolve) => setImmediate(resolve));
    }
    expect((await chains.read(chain, 0, 10, 1 << 20)).records).toEqual([]);
    serves = true;
    clock.advance(OUTPUT_RETRY_DELAY_MS);
    await until(
      async () => (await chains.read(chain, 0, 10, 1 << 20)).records.length === 1,
      'the output written',
    );
    writer.stop();
  });
});

describe('the output writer lingers', () => {
  it('appends at once when idle; while outputs keep coming, gathers them for OUTPUT_LINGER_MS, unless someone waits', async () => {
    const chains = new FakeChainsBackend();
    const chain = outputChainName('d');
    await chains.create({ name: chain, replicas: 3, acks: 'quorum' });
    const appendSizes: number[] = [];
    const append = chains.append.bind(chains);
    chains.append = async (name, payloads, timeoutMs) => {
      appendSizes.push(payloads.length);
      return append(name, payloads, timeoutMs);
    };
    const records = async () => (await chains.read(chain, 0, 10, 1 << 20)).records.length;
    const core = new MemberCore(echoApplier());
    const clock = new ManualClock();
    const writer = new OutputWriter({ daemon: 'd', chain, chains, core, mayWrite: () => true, clock });
    writer.start();
    const apply = async (offset: number, payload: string) => {
      await core.apply(offset, { epoch: 1, payload: bytes(payload) });
      writer.notify();
    };
    // Idle: the first output goes at once (the clock does not move).
    await apply(0, 'a');
    await until(async () => (await records()) === 1, 'the first output written at once');
    expect(appendSizes).toEqual([1]);
    // Right after an append: the next outputs gather.
    await apply(1, 'b');
    await until(() => clock.pendingTimerCount() > 0, 'the writer lingering');
    await apply(2, 'c');
    expect(await records()).toBe(1);
    clock.advance(OUTPUT_LINGER_MS);
    await until(async () => (await records()) === 3, 'the next two outputs written');
    expect(appendSizes).toEqual([1, 2]);

    await apply(3, 'd');
    await until(() => clock.pendingTimerCount() > 0, 'the writer lingering again');
    // A waiter (a checkpoint, a move) does not wait out the linger: the clock does not move here.
    expect(await writer.waitWritten(3, LONG_WAIT_MS)).toBe(true);
    expect(appendSizes).toEqual([1, 2, 1]);
    // Quiet for longer than the linger: the next output goes at once again.
    clock.advance(OUTPUT_LINGER_MS);
    await apply(4, 'e');
    await until(async () => (await records()) === 5, 'an output after a quiet spell written at once');
    expect(appendSizes).toEqual([1, 2, 1, 1]);
    writer.stop();
  });
});
