/**
 * The changes a chain's definition goes through, as pure functions from one definition to the
 * next: creation with its placement, a new epoch, a learner added or dropped, a learner promoted
 * in place of a replica. The directory commits them by compare-and-swap; placement tests apply
 * them to check their plans. Each refuses a change that would break the definition's invariants.
 */
import { type NodeId, ValidationError } from '../lib/index.js';
import type { ChainCreateSpec } from './create-request.js';
import { chainDefinitionProblems } from './definition-codec.js';
import type { ChainDefinition } from './types.js';

/** Where a new chain's replicas go and which of them leads its first epoch. */
export interface ChainPlacementChoice {
  readonly replicas: readonly NodeId[];
  readonly leader: NodeId;
}

/** Checks the result of a change; VALIDATION_FAILED naming every problem. */
function checked(subject: string, definition: ChainDefinition): ChainDefinition {
  const problems = chainDefinitionProblems(definition);
  if (problems.length > 0) throw new ValidationError(subject, problems);
  return definition;
}

/** A new chain at epoch 1, led by the placement's leader. */
export function newChainDefinition(
  spec: ChainCreateSpec,
  placement: ChainPlacementChoice,
  createdAtMs: number,
): ChainDefinition {
  if (placement.replicas.length !== spec.replicaCount) {
    throw new ValidationError(`placement of chain ${spec.name}`, [
      `${placement.replicas.length} replicas placed, ${spec.replicaCount} asked for`,
    ]);
  }
  return checked(`chain ${spec.name}`, {
    name: spec.name,
    replicas: [...placement.replicas],
    acks: spec.acks,
    sync: spec.sync,
    retention: spec.retention,
    ...(spec.maxRecordBytes === undefined ? {} : { maxRecordBytes: spec.maxRecordBytes }),
    epoch: 1,
    leader: placement.leader,
    ...(spec.origin === undefined ? {} : { origin: spec.origin }),
    createdAtMs,
  });
}

/** The next epoch, led by `leader` (one of the replicas). */
export function withNextEpoch(definition: ChainDefinition, leader: NodeId): ChainDefinition {
  return checked(`epoch ${definition.epoch + 1} of chain ${definition.name}`, {
    ...definition,
    epoch: definition.epoch + 1,
    leader,
  });
}

/** `learner` starts catching up to replace a replica; it counts for nothing until promoted. */
export function withLearner(definition: ChainDefinition, learner: NodeId): ChainDefinition {
  return checked(`learner ${learner} of chain ${definition.name}`, {
    ...definition,
    learners: [...(definition.learners ?? []), learner],
  });
}

/** `learner` stops catching up (its node is gone). */
export function withoutLearner(definition: ChainDefinition, learner: NodeId): ChainDefinition {
  const learners = definition.learners ?? [];
  if (!learners.includes(learner)) {
    throw new ValidationError(`chain ${definition.name}`, [`node ${learner} is not a learner`]);
  }
  return omitEmptyLearners({ ...definition, learners: learners.filter((node) => node !== learner) });
}

/**
 * `learner` takes `replaced`'s place in the replica set (same position) and a new epoch starts,
 * which its leader claims over the new set. The leader stays unless it is the replaced replica;
 * then `leader` (or the first remaining replica of the old set) leads.
 */
export function withPromotedLearner(
  definition: ChainDefinition,
  learner: NodeId,
  replaced: NodeId,
  leader?: NodeId,
): ChainDefinition {
  const problems: string[] = [];
  const learners = definition.learners ?? [];
  if (!learners.includes(learner)) problems.push(`node ${learner} is not a learner`);
  if (!definition.replicas.includes(replaced)) problems.push(`node ${replaced} is not a replica`);
  if (problems.length > 0) throw new ValidationError(`promotion in chain ${definition.name}`, problems);
  const replicas = definition.replicas.map((node) => (node === replaced ? learner : node));
  const nextLeader =
    definition.leader !== undefined && definition.leader !== replaced
      ? definition.leader
      : (leader ?? definition.replicas.find((node) => node !== replaced) ?? learner);
  return checked(
    `promotion in chain ${definition.name}`,
    omitEmptyLearners({
      ...definition,
      replicas,
      learners: learners.filter((node) => node !== learner),
      epoch: definition.epoch + 1,
      leader: nextLeader,
    }),
  );
}

function omitEmptyLearners(definition: ChainDefinition): ChainDefinition {
  if (definition.learners === undefined || definition.learners.length > 0) return definition;
  const { learners: _, ...rest } = definition;
  return rest;
}
