import { describe, expect, it } from 'vitest';
import {
  decodeForkRecord,
  encodeForkRecord,
  type ForkRecord,
  isForkRecord,
} from '../../../src/daemons/fork-record.js';
import { applyInboundRecord } from '../../../src/daemons/inbound-step.js';
import {
  decodeJournalState,
  ExactlyOnceApplier,
  type ExactlyOnceApplierOptions,
  encodeInboundEventRecord,
  journalKind,
} from '../../../src/daemons/index.js';
import { MemberCore } from '../../../src/daemons/member-core.js';
import { ManualClock } from '../../../src/lib/index.js';
import { context, textDecoder, textEncoder } from './fixtures.js';

const options = (): ExactlyOnceApplierOptions => ({
  kind: journalKind,
  config: undefined,
  context: context(),
  clock: new ManualClock(),
});
const restore = (snapshot: Uint8Array) => ExactlyOnceApplier.restore(options(), snapshot);
const event = (text: string, clientId?: string, sequence?: number) =>
  encodeInboundEventRecord({
    epoch: 1,
    payload: textEncoder.encode(text),
    ...(clientId === undefined ? {} : { clientId, sequence: sequence ?? 0 }),
  });

/** A parent journal that applied `texts` (client `p`, sequences 1..n) and its member snapshot. */
async function parentSnapshot(texts: readonly string[]): Promise<Uint8Array> {
  const core = new MemberCore(ExactlyOnceApplier.create(options()));
  for (const [offset, text] of texts.entries())
    await applyInboundRecord(core, offset, event(text, 'p', offset + 1), { restore });
  return (await core.checkpoint()).snapshot;
}

async function journalOf(core: MemberCore): Promise<string[]> {
  return decodeJournalState((await core.state()).state).map((entry) => textDecoder.decode(entry));
}

describe('the fork record', () => {
  it('round-trips and is told apart from an event record by its first byte', async () => {
    const record: ForkRecord = {
      parent: 'origin',
      inboundOffset: 7,
      epoch: 1,
      snapshot: await parentSnapshot(['a']),
    };
    const bytes = encodeForkRecord(record);
    expect(isForkRecord(bytes)).toBe(true);
    expect(isForkRecord(event('a'))).toBe(false);
    expect(decodeForkRecord(bytes)).toEqual(record);
    expect(() => decodeForkRecord(bytes.subarray(0, bytes.length - 1))).toThrow(
      expect.objectContaining({ code: 'DAEMON_RECORD_INVALID' }),
    );
    expect(() => decodeForkRecord(event('a'))).toThrow(
      expect.objectContaining({ code: 'DAEMON_RECORD_INVALID' }),
    );
  });

  it("starts a member at the chain's start from the parent's state and dedup table", async () => {
    const snapshot = await parentSnapshot(['a', 'b']);
    const fork = encodeForkRecord({ parent: 'origin', inboundOffset: 2, epoch: 1, snapshot });
    const empty = new MemberCore(ExactlyOnceApplier.create(options()));
    // Offsets 0 and 1 of the fork's chain are markers; the fork record is its first record.
    const started = await applyInboundRecord(empty, 2, fork, { restore });
    expect(started.outcome).toEqual({ type: 'applied', outputs: [], duplicate: false });
    const core = started.core;
    expect(core).not.toBe(empty);
    expect(core.appliedThrough).toBe(3);
    expect(await journalOf(core)).toEqual(['a', 'b']);
    const retry = await applyInboundRecord(core, 3, event('b', 'p', 2), { restore });
    expect(retry.outcome).toMatchObject({ type: 'applied', duplicate: true });
    await applyInboundRecord(core, 4, event('c'), { restore });
    expect(await journalOf(core)).toEqual(['a', 'b', 'c']);
  });

  it('is refused anywhere but at the start of a chain, by every member alike', async () => {
    const fork = encodeForkRecord({
      parent: 'origin',
      inboundOffset: 1,
      epoch: 1,
      snapshot: await parentSnapshot(['a']),
    });
    const core = new MemberCore(ExactlyOnceApplier.create(options()));
    await applyInboundRecord(core, 0, event('x'), { restore });
    const late = await applyInboundRecord(core, 1, fork, { restore });
    expect(late.core).toBe(core);
    expect(late.outcome.type).toBe('refused');
    expect(core.appliedThrough).toBe(2);
    expect(await journalOf(core)).toEqual(['x']);
  });
});
