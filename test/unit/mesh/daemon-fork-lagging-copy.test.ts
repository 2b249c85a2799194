/**
 * Regression (found by the simulator, `--daemon-groups all`, seed 16): a fork's deploy read its
 * parent's inbound chain from the deploying node's copy, which may not yet have learnt the commit
 * offset the fork point was checked against; a read that stopped at that copy's commit offset was
 * taken for the chain's end, and the fork started without the parent's last events below the
 * fork point. The replay now waits for the copy to reach the fork point.
 */
import { describe, expect, it } from 'vitest';
import type { ChainReadResult, ChainsBackend } from '../../../src/api/index.js';
import { inboundChainName } from '../../../src/daemons/chain-names.js';
import { validateDaemonDeploy } from '../../../src/daemons/deploy-request.js';
import {
  BUILT_IN_KINDS,
  createKindCatalog,
  decodeJournalState,
  decodeMemberSnapshot,
  encodeInboundEventRecord,
} from '../../../src/daemons/index.js';
import type { DaemonDefinition } from '../../../src/daemons/types.js';
import { SystemClock } from '../../../src/lib/index.js';
import { forkRecordFor } from '../../../src/mesh/daemon-fork.js';
import { standbyDefinition } from '../../support/daemon-definition.js';
import { FakeChainsBackend } from '../../support/fake-chains-backend.js';
import { bytes, text } from './daemon-mesh.js';

const PARENT: DaemonDefinition = standbyDefinition({
  name: 'origin',
  members: [{ index: 0, node: 1 }],
  createdAtMs: 1,
});
const EVENTS = 5;
/** The copy read here knows records below this offset committed, for its first reads. */
const LAGGING_COMMIT = 2;
const LAGGING_READS = 3;

/** `chains` whose reads of `chain` answer as a copy behind the commit offset, for a few reads. */
function laggingCopy(chains: FakeChainsBackend, chain: string): ChainsBackend & { reads: number } {
  const lagging = Object.create(chains) as ChainsBackend & { reads: number };
  lagging.reads = 0;
  lagging.read = async (name, fromOffset, limit, maxBytes): Promise<ChainReadResult> => {
    const page = await chains.read(name, fromOffset, limit, maxBytes);
    if (name !== chain || lagging.reads++ >= LAGGING_READS) return page;
    const records = page.records.filter((record) => record.offset < LAGGING_COMMIT);
    const last = records.at(-1);
    return {
      records,
      nextOffset: last === undefined ? Math.max(fromOffset, LAGGING_COMMIT) : last.offset + 1,
      commitOffset: LAGGING_COMMIT,
    };
  };
  return lagging;
}

describe("a fork's deploy reading a copy of the parent's chain that lags", () => {
  it('waits for the copy to reach the fork point: the fork holds every parent event below it', async () => {
    const chains = new FakeChainsBackend();
    const chain = inboundChainName(PARENT.name);
    await chains.create({ name: chain, replicas: 1, acks: 'quorum' });
    for (let event = 1; event <= EVENTS; event++)
      await chains.append(
        chain,
        [encodeInboundEventRecord({ epoch: 1, payload: bytes(`e${event}`) })],
        1_000,
      );
    const lagging = laggingCopy(chains, chain);
    const spec = validateDaemonDeploy({
      name: 'branch',
      kind: 'journal',
      group: 'fork',
      members: 1,
      forkOf: { parent: PARENT.name, inboundOffset: EVENTS },
    });
    const record = await forkRecordFor({
      spec: { ...spec, forkOf: spec.forkOf! },
      parent: PARENT,
      chains: lagging,
      catalog: createKindCatalog(BUILT_IN_KINDS),
      self: 2,
      clock: new SystemClock(),
    });
    const { state } = decodeMemberSnapshot(record.snapshot);
    expect(decodeJournalState(state).map(text)).toEqual(['e1', 'e2', 'e3', 'e4', 'e5']);
    expect(lagging.reads).toBeGreaterThan(LAGGING_READS);
  });
});
