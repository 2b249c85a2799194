import { describe, expect, it } from 'vitest';
import { ForkGroup, genesisLink, memberIdentity, verifyForkRecord } from '../../../src/compute/index.js';
import { isMeshError } from '../../../src/lib/index.js';
import { eventOf, ledgerOf, ledgerRuntime, seedOf } from './fixtures.js';

describe('ForkGroup', () => {
  function forkSetup() {
    const { runtime, clock } = ledgerRuntime();
    const parentIdentity = memberIdentity(seedOf(40), 0);
    const parent = runtime.spawn('ledger', parentIdentity).originHash;
    for (let id = 1; id <= 3; id++) runtime.deliver(parent, eventOf(id));
    const forks = new ForkGroup(runtime, 'ledger', parent, { groupSeed: seedOf(41), clock });
    return { runtime, clock, parent, parentIdentity, forks };
  }

  it('copies the parent state into a new identity whose chain starts at genesis', () => {
    const { runtime, parent, forks } = forkSetup();
    const { origin } = forks.fork();
    expect(origin).not.toBe(parent);
    expect(ledgerOf(runtime, origin).applied).toEqual([1, 2, 3]);
    expect(runtime.host(origin).sequence).toBe(0);
    runtime.deliver(origin, eventOf(4));
    expect(ledgerOf(runtime, parent).applied).toEqual([1, 2, 3]);
    expect(runtime.host(origin).inboundPosition).toBe(4);
  });

  it('links the fork record to the parent chain at the fork point and signs it', () => {
    const { runtime, clock, parent, parentIdentity, forks } = forkSetup();
    clock.advance(10);
    const { origin, record } = forks.fork();
    const parentHost = runtime.host(parent);
    const entryAtFork = parentHost.outputLog().at(-1)!;
    expect(record).toMatchObject({
      parentOrigin: parent,
      parentSequence: 3,
      parentInboundThrough: 3,
      childOrigin: origin,
      forkIndex: 0,
      createdAtMs: clock.wallMs(),
    });
    expect(() => verifyForkRecord(record, parentIdentity.publicKey, entryAtFork)).not.toThrow();
    expect(forks.forks()).toEqual([record]);
  });

  it('rejects a record with a wrong link, a forged field or another signer', () => {
    const { runtime, parent, parentIdentity, forks } = forkSetup();
    const { record } = forks.fork();
    const entries = runtime.host(parent).outputLog();
    const codeOf = (action: () => void) => {
      try {
        action();
        return undefined;
      } catch (error) {
        return isMeshError(error) ? error.code : 'other';
      }
    };
    expect(codeOf(() => verifyForkRecord(record, parentIdentity.publicKey, entries[1]!))).toBe(
      'FORK_RECORD_INVALID',
    );
    expect(codeOf(() => verifyForkRecord({ ...record, parentSequence: 2 }, parentIdentity.publicKey))).toBe(
      'FORK_RECORD_INVALID',
    );
    expect(codeOf(() => verifyForkRecord(record, memberIdentity(seedOf(40), 1).publicKey))).toBe(
      'FORK_RECORD_INVALID',
    );
    expect(
      codeOf(() =>
        verifyForkRecord(record, parentIdentity.publicKey, {
          link: genesisLink(parent),
          payload: new Uint8Array(0),
        }),
      ),
    ).toBe('FORK_RECORD_INVALID');
  });

  it('gives each fork its own deterministic identity and refuses an unknown parent', () => {
    const { runtime, forks } = forkSetup();
    const first = forks.fork().origin;
    const second = forks.fork().origin;
    expect(first).not.toBe(second);
    expect(forks.forks().map((record) => record.forkIndex)).toEqual([0, 1]);
    expect(
      () =>
        new ForkGroup(runtime, 'ledger', 123n, { groupSeed: seedOf(1), clock: { wallMs: () => 0 } as never }),
    ).toThrow(expect.objectContaining({ code: 'DAEMON_NOT_FOUND' }));
  });
});
