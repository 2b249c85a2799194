/**
 * A deployed daemon's definition as stored at `daemons/<name>`: JSON through the control plane's
 * record codec, read back strictly (every field checked, unknown fields refused), so a definition
 * that reaches a node always holds its invariants: members on distinct nodes with indices
 * 0..n-1, an active among them for every group but `replica`, the member count the group allows.
 */
import { ACKS_POLICIES, checkOnlyFields } from '../chains/index.js';
import { daemonKey, encodeRecord, readRecord } from '../control/index.js';
import { InputProblems, isNodeId, isRecord, type NodeId } from '../lib/index.js';
import {
  MAX_DAEMON_KIND_NAME_CHARACTERS,
  MAX_DAEMON_MEMBERS,
  MAX_DAEMON_NAME_CHARACTERS,
  MIN_STANDBY_GROUP_MEMBERS,
} from './cluster-limits.js';
import type { DaemonDefinition, DaemonGroupKind, StandbyMode } from './types.js';

export const DAEMON_GROUP_KINDS: readonly DaemonGroupKind[] = ['single', 'standby', 'replica', 'fork'];
export const STANDBY_MODES: readonly StandbyMode[] = ['hot', 'warm'];

const DEFINITION_FIELDS = [
  'name',
  'kind',
  'group',
  'config',
  'members',
  'active',
  'standbyMode',
  'acks',
  'epoch',
  'createdAtMs',
  'forkOf',
];

/** The keyspace's name rules, and short enough for the daemon's chain names. */
export function checkDaemonName(problems: InputProblems, value: unknown): void {
  if (typeof value !== 'string') {
    problems.text('name', value);
    return;
  }
  if (value.length > MAX_DAEMON_NAME_CHARACTERS) {
    problems.add(`name is longer than ${MAX_DAEMON_NAME_CHARACTERS} characters`);
    return;
  }
  try {
    daemonKey(value);
  } catch (error) {
    problems.add(`name ${JSON.stringify(value.slice(0, 40))}: ${(error as Error).message}`);
  }
}

export function checkKindName(problems: InputProblems, value: unknown): void {
  if (typeof value !== 'string' || value.length === 0 || value.length > MAX_DAEMON_KIND_NAME_CHARACTERS) {
    problems.add(`kind must be a name of 1 to ${MAX_DAEMON_KIND_NAME_CHARACTERS} characters`);
  }
}

/** The member counts `group` allows, as [min, max]. */
export function memberCountRange(group: DaemonGroupKind): readonly [number, number] {
  if (group === 'single') return [1, 1];
  if (group === 'standby') return [MIN_STANDBY_GROUP_MEMBERS, MAX_DAEMON_MEMBERS];
  return [1, MAX_DAEMON_MEMBERS];
}

/** Every problem with a value meant as a definition; empty when it is one. */
export function daemonDefinitionProblems(value: unknown): string[] {
  const problems = new InputProblems();
  if (!problems.record('definition', value)) return problems.list;
  checkDaemonName(problems, value.name);
  checkKindName(problems, value.kind);
  problems.oneOf('group', value.group, DAEMON_GROUP_KINDS);
  memberList(problems, value.members);
  const count = Array.isArray(value.members) ? value.members.length : 0;
  if (DAEMON_GROUP_KINDS.includes(value.group as DaemonGroupKind)) {
    const group = value.group as DaemonGroupKind;
    const [min, max] = memberCountRange(group);
    if (count < min || count > max)
      problems.add(`a ${group} group has ${min} to ${max} members, got ${count}`);
    if (group === 'replica') {
      if (value.active !== undefined) problems.add('a replica group has no active member');
    } else {
      problems.integer('active', value.active, 0, Math.max(0, count - 1));
    }
    if (group === 'fork') checkForkPoint(problems, value.forkOf);
    else if (value.forkOf !== undefined) problems.add(`a ${group} group has no forkOf (fork groups only)`);
  }
  problems.oneOf('standbyMode', value.standbyMode, STANDBY_MODES);
  problems.oneOf('acks', value.acks, ACKS_POLICIES);
  problems.integer('epoch', value.epoch, 1, Number.MAX_SAFE_INTEGER);
  problems.integer('createdAtMs', value.createdAtMs, 0, Number.MAX_SAFE_INTEGER);
  checkOnlyFields(problems, 'definition', value, DEFINITION_FIELDS);
  return problems.list;
}

/** A fork group's parent (a daemon name) and fork point (an inbound offset). */
export function checkForkPoint(problems: InputProblems, value: unknown): void {
  if (!problems.record('forkOf', value)) return;
  if (typeof value.parent !== 'string') problems.add('forkOf.parent must be a daemon name');
  else checkDaemonName(problems, value.parent);
  problems.integer('forkOf.inboundOffset', value.inboundOffset, 0, Number.MAX_SAFE_INTEGER);
  checkOnlyFields(problems, 'forkOf', value, ['parent', 'inboundOffset']);
}

/** Members with indices 0..n-1 in order, each on its own node; answers their nodes. */
function memberList(problems: InputProblems, value: unknown): NodeId[] {
  if (!Array.isArray(value) || value.length === 0 || value.length > MAX_DAEMON_MEMBERS) {
    problems.add(`members must be a list of 1 to ${MAX_DAEMON_MEMBERS} members`);
    return [];
  }
  const nodes: NodeId[] = [];
  for (const [position, member] of value.entries()) {
    if (!isRecord(member)) {
      problems.add(`members[${position}] must be an object`);
      continue;
    }
    if (member.index !== position) problems.add(`members[${position}].index must be ${position}`);
    if (!isNodeId(member.node)) problems.nodeId(`members[${position}].node`, member.node);
    else if (nodes.includes(member.node)) problems.add(`members name node ${member.node} twice`);
    else nodes.push(member.node);
    checkOnlyFields(problems, `members[${position}]`, member, ['index', 'node']);
  }
  return nodes;
}

/** The strict reader `readRecord` takes: answers the definition or throws naming every problem. */
export function readDaemonDefinition(value: unknown): DaemonDefinition {
  const problems = daemonDefinitionProblems(value);
  if (problems.length > 0) throw new Error(problems.join('; '));
  return value as DaemonDefinition;
}

/** The stored bytes of a definition (CONTROL_BAD_VALUE if over the plane's value limit). */
export function encodeDaemonDefinition(definition: DaemonDefinition): Uint8Array {
  return encodeRecord(daemonKey(definition.name), definition);
}

/** A stored definition (CONTROL_RECORD_DECODE if the bytes are not one, or name another daemon). */
export function decodeDaemonDefinition(key: string, bytes: Uint8Array): DaemonDefinition {
  return readRecord(key, bytes, (value) => {
    const definition = readDaemonDefinition(value);
    if (daemonKey(definition.name) !== key)
      throw new Error(`names daemon ${definition.name}, stored at ${key}`);
    return definition;
  });
}
