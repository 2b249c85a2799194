/**
 * A chain's definition as stored at `chains/<name>`: JSON through the control plane's record
 * codec, read back strictly (every field checked, unknown fields refused) so that a definition
 * that reaches the chains layer always holds its invariants: distinct replicas, learners apart
 * from them, a leader among the replicas from epoch 1 on.
 */
import { chainKey, encodeRecord, readRecord } from '../control/index.js';
import { InputProblems, isNodeId, type NodeId } from '../lib/index.js';
import {
  ACKS_POLICIES,
  checkChainName,
  checkMaxRecordBytes,
  checkOnlyFields,
  checkRetention,
  checkSyncPolicy,
} from './definition-fields.js';
import { MAX_CHAIN_LEARNERS, MAX_CHAIN_REPLICAS } from './definition-limits.js';
import type { ChainDefinition } from './types.js';

const DEFINITION_FIELDS = [
  'name',
  'replicas',
  'learners',
  'acks',
  'sync',
  'retention',
  'maxRecordBytes',
  'epoch',
  'leader',
  'origin',
  'createdAtMs',
];

/** Every problem with a value meant as a definition; empty when it is one. */
export function chainDefinitionProblems(value: unknown): string[] {
  const problems = new InputProblems();
  if (!problems.record('definition', value)) return problems.list;
  checkChainName(problems, value.name);
  const replicas = nodeList(problems, 'replicas', value.replicas, 1, MAX_CHAIN_REPLICAS);
  const learners =
    value.learners === undefined ? [] : nodeList(problems, 'learners', value.learners, 0, MAX_CHAIN_LEARNERS);
  for (const learner of learners) {
    if (replicas.includes(learner)) problems.add(`learner ${learner} is also a replica`);
  }
  problems.oneOf('acks', value.acks, ACKS_POLICIES);
  checkSyncPolicy(problems, value.sync);
  checkRetention(problems, value.retention);
  if (value.maxRecordBytes !== undefined) checkMaxRecordBytes(problems, value.maxRecordBytes);
  problems.integer('epoch', value.epoch, 0, Number.MAX_SAFE_INTEGER);
  if (value.epoch === 0) {
    if (value.leader !== undefined) problems.add('epoch 0 has no leader');
  } else if (!isNodeId(value.leader) || !replicas.includes(value.leader)) {
    problems.add(`leader must be one of the replicas from epoch 1 on, got ${String(value.leader)}`);
  }
  if (value.origin !== undefined) problems.nodeId('origin', value.origin);
  problems.integer('createdAtMs', value.createdAtMs, 0, Number.MAX_SAFE_INTEGER);
  checkOnlyFields(problems, 'definition', value, DEFINITION_FIELDS);
  return problems.list;
}

/** Distinct node ids, between `min` and `max` of them; answers the valid ones. */
function nodeList(
  problems: InputProblems,
  field: string,
  value: unknown,
  min: number,
  max: number,
): NodeId[] {
  if (!Array.isArray(value) || value.length < min || value.length > max) {
    problems.add(`${field} must be a list of ${min} to ${max} node ids`);
    return [];
  }
  const nodes: NodeId[] = [];
  for (const [index, node] of value.entries()) {
    if (!isNodeId(node)) problems.nodeId(`${field}[${index}]`, node);
    else if (nodes.includes(node)) problems.add(`${field} names node ${node} twice`);
    else nodes.push(node);
  }
  return nodes;
}

/** The strict reader `readRecord` takes: answers the definition or throws naming every problem. */
export function readChainDefinition(value: unknown): ChainDefinition {
  const problems = chainDefinitionProblems(value);
  if (problems.length > 0) throw new Error(problems.join('; '));
  return value as ChainDefinition;
}

/** The stored bytes of a definition (CONTROL_BAD_VALUE if it is over the plane's value limit). */
export function encodeChainDefinition(definition: ChainDefinition): Uint8Array {
  return encodeRecord(chainKey(definition.name), definition);
}

/**
 * A stored definition (CONTROL_RECORD_DECODE if the bytes are not one, or name another chain
 * than their key).
 */
export function decodeChainDefinition(key: string, bytes: Uint8Array): ChainDefinition {
  return readRecord(key, bytes, (value) => {
    const definition = readChainDefinition(value);
    if (chainKey(definition.name) !== key)
      throw new Error(`names chain ${definition.name}, stored at ${key}`);
    return definition;
  });
}
