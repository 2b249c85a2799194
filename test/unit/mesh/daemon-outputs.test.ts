import { describe, expect, it } from 'vitest';
import { encodeOutputRecord } from '../../../src/daemons/index.js';
import { readOutputs } from '../../../src/mesh/daemon-outputs.js';
import { FakeChainsBackend } from '../../support/fake-chains-backend.js';

const bytes = (text: string): Uint8Array => new TextEncoder().encode(text);
const text = (payload: Uint8Array): string => new TextDecoder().decode(payload);

async function chainOf(
  records: ReadonlyArray<readonly [number, number, string]>,
): Promise<FakeChainsBackend> {
  const chains = new FakeChainsBackend();
  await chains.create({ name: 'out', replicas: 1, acks: 'quorum' });
  for (const [inboundOffset, index, payload] of records)
    await chains.append(
      'out',
      [encodeOutputRecord({ inboundOffset, index, payload: bytes(payload) })],
      1_000,
    );
  return chains;
}

async function read(chains: FakeChainsBackend, from: number): Promise<string[]> {
  const seen: string[] = [];
  for await (const output of readOutputs(chains, 'out', from, false, new AbortController().signal))
    seen.push(`${output.sequence}:${output.inboundOffset}.${output.index}=${text(output.payload)}`);
  return seen;
}

describe('reading a daemon output chain', () => {
  it('drops any record not after the last one delivered: each output once, in inbound order', async () => {
    // A new active rewrote (1,0) and (1,1), and a fenced old active wrote (0,0) again.
    const chains = await chainOf([
      [0, 0, 'a'],
      [1, 0, 'b'],
      [1, 1, 'c'],
      [1, 0, 'b'],
      [1, 1, 'c'],
      [0, 0, 'a'],
      [3, 0, 'd'],
    ]);
    expect(await read(chains, 0)).toEqual(['0:0.0=a', '1:1.0=b', '2:1.1=c', '6:3.0=d']);
  });

  it('a reader starting mid-chain drops copies of outputs before its start', async () => {
    const chains = await chainOf([
      [0, 0, 'a'],
      [1, 0, 'b'],
      [1, 0, 'b'],
      [2, 0, 'c'],
    ]);
    expect(await read(chains, 2)).toEqual(['3:2.0=c']);
    expect(await read(chains, 4)).toEqual([]);
  });
});
