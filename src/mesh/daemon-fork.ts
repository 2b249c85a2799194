/**
 * Deploying a fork group (docs/DAEMONS.md "Fork groups"): the deploying node checks the parent
 * (deployed, of the same kind, one history: not a replica group), replays the parent's inbound
 * chain up to the fork point through the same steps its members take (`applyInboundRecord`), and
 * answers the fork record that starts the fork's own inbound chain: the parent's member snapshot
 * there, so the fork begins with the parent's state and dedup table and goes on alone.
 */
import type { ChainsBackend } from '../api/index.js';
import { memberChains } from '../daemons/chain-names.js';
import { DaemonForkStateTooLargeError, DaemonUnavailableError } from '../daemons/cluster-errors.js';
import type { DaemonDeploySpec } from '../daemons/deploy-request.js';
import { ExactlyOnceApplier } from '../daemons/exactly-once-applier.js';
import { type ForkRecord, MAX_FORK_SNAPSHOT_BYTES } from '../daemons/fork-record.js';
import { applyInboundRecord } from '../daemons/inbound-step.js';
import { MemberCore } from '../daemons/member-core.js';
import type { DaemonDefinition, DaemonKindCatalog } from '../daemons/types.js';
import { type Clock, type NodeId, ValidationError } from '../lib/index.js';

/** Records read per step while replaying a parent's chain to the fork point. */
export const FORK_REPLAY_READ_RECORDS = 512;
/** Bytes read per step while replaying a parent's chain to the fork point. */
export const FORK_REPLAY_READ_BYTES = 4 * 1024 * 1024;

export interface ForkQuestion {
  readonly spec: DaemonDeploySpec & { readonly forkOf: NonNullable<DaemonDeploySpec['forkOf']> };
  readonly parent: DaemonDefinition;
  readonly chains: ChainsBackend;
  readonly catalog: DaemonKindCatalog;
  readonly self: NodeId;
  readonly clock: Clock;
}

/** The record that starts the fork's chain (its epoch 1); VALIDATION_FAILED for a parent that does not fit. */
export async function forkRecordFor(question: ForkQuestion): Promise<ForkRecord> {
  const { spec, parent, chains } = question;
  const problems: string[] = [];
  if (parent.group === 'replica')
    problems.push(`${parent.name} is a replica group: its members have no one history to fork`);
  if (parent.kind !== spec.kind)
    problems.push(`a fork runs its parent's kind ${parent.kind}, not ${spec.kind}`);
  if (spec.config !== undefined) problems.push("a fork runs with its parent's config: give none");
  if (problems.length > 0) throw new ValidationError(`fork of daemon ${parent.name}`, problems);
  const chain = memberChains(parent, parent.active ?? 0).inbound;
  const commitOffset = (await chains.status(chain)).commitOffset;
  const through = spec.forkOf.inboundOffset ?? commitOffset;
  if (through > commitOffset)
    throw new ValidationError(`fork of daemon ${parent.name}`, [
      `forkOf.inboundOffset ${through} is past its inbound chain's commit offset ${commitOffset}`,
    ]);
  const snapshot = await replayTo(question, chain, through);
  if (snapshot.length > MAX_FORK_SNAPSHOT_BYTES)
    throw new DaemonForkStateTooLargeError(spec.name, parent.name, snapshot.length, MAX_FORK_SNAPSHOT_BYTES);
  return { parent: parent.name, inboundOffset: through, epoch: 1, snapshot };
}

/** The parent's member snapshot after its records below `through`, rebuilt from its chain. */
async function replayTo(question: ForkQuestion, chain: string, through: number): Promise<Uint8Array> {
  const { parent, chains, catalog, self, clock } = question;
  const options = () => ({
    kind: catalog.get(parent.kind),
    config: parent.config,
    context: { daemonName: parent.name, memberIndex: parent.active ?? 0, node: self },
    clock,
  });
  const restore = (snapshot: Uint8Array) => ExactlyOnceApplier.restore(options(), snapshot);
  let core = new MemberCore(ExactlyOnceApplier.create(options()));
  let next = 0;
  while (next < through) {
    const page = await chains.read(chain, next, FORK_REPLAY_READ_RECORDS, FORK_REPLAY_READ_BYTES);
    for (const record of page.records) {
      if (record.offset >= through) break;
      const step = await applyInboundRecord(core, record.offset, record.payload, { restore });
      if (step.outcome.type === 'failed' && step.outcome.code === 'DAEMON_MEMBER_BROKEN')
        throw new DaemonUnavailableError(
          parent.name,
          `replaying it to the fork point broke at inbound offset ${record.offset}: ${step.outcome.reason}`,
        );
      core = step.core;
    }
    // At the commit offset a read answers nothing more: the rest below `through` are markers.
    if (page.nextOffset <= next) break;
    next = page.nextOffset;
  }
  return (await core.checkpoint()).snapshot;
}
