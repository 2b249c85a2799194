import { dataViewOf } from '../lib/index.js';
import { InvalidConfigChangeError, MessageDecodeError } from './errors.js';
import type { ClusterConfig, Entry, NodeId } from './types.js';

/**
 * A membership change. Learners are added and removed directly (they do not count for quorums).
 * Voter changes always go through joint consensus: `changeVoters` enters the joint configuration
 * (old and new voter sets must both agree), and the leader proposes `leaveJoint` by itself once
 * that entry commits. `promoteLearner` is `changeVoters` adding one learner.
 */
export type ConfigChange =
  | { readonly type: 'addLearner'; readonly node: NodeId }
  | { readonly type: 'removeLearner'; readonly node: NodeId }
  | { readonly type: 'promoteLearner'; readonly node: NodeId }
  | { readonly type: 'changeVoters'; readonly add: readonly NodeId[]; readonly remove: readonly NodeId[] }
  | { readonly type: 'leaveJoint' };

export const EMPTY_CONFIG: ClusterConfig = { voters: [], learners: [], outgoingVoters: [] };

export function isJoint(config: ClusterConfig): boolean {
  return config.outgoingVoters.length > 0;
}

export function isVoterIn(config: ClusterConfig, node: NodeId): boolean {
  return config.voters.includes(node) || config.outgoingVoters.includes(node);
}

export function isMemberOf(config: ClusterConfig, node: NodeId): boolean {
  return isVoterIn(config, node) || config.learners.includes(node);
}

/** Every node the leader replicates to, each once. */
export function membersOf(config: ClusterConfig): NodeId[] {
  const members = new Set<NodeId>([...config.voters, ...config.outgoingVoters, ...config.learners]);
  return [...members];
}

function sorted(nodes: Iterable<NodeId>): NodeId[] {
  return [...nodes].sort((a, b) => a - b);
}

/** The configuration after `change`, or a typed error when the change does not apply. */
export function applyConfigChange(config: ClusterConfig, change: ConfigChange): ClusterConfig {
  switch (change.type) {
    case 'addLearner': {
      if (isMemberOf(config, change.node))
        throw new InvalidConfigChangeError(`${change.node} is already a member`);
      return { ...config, learners: sorted([...config.learners, change.node]) };
    }
    case 'removeLearner': {
      if (!config.learners.includes(change.node))
        throw new InvalidConfigChangeError(`${change.node} is not a learner`);
      return { ...config, learners: config.learners.filter((node) => node !== change.node) };
    }
    case 'promoteLearner': {
      if (!config.learners.includes(change.node))
        throw new InvalidConfigChangeError(`${change.node} is not a learner`);
      return applyConfigChange(config, { type: 'changeVoters', add: [change.node], remove: [] });
    }
    case 'changeVoters': {
      if (isJoint(config)) throw new InvalidConfigChangeError('the configuration is already joint');
      const voters = new Set(config.voters);
      for (const node of change.add) {
        if (voters.has(node)) throw new InvalidConfigChangeError(`${node} is already a voter`);
        voters.add(node);
      }
      for (const node of change.remove) {
        if (!voters.delete(node)) throw new InvalidConfigChangeError(`${node} is not a voter`);
      }
      if (voters.size === 0) throw new InvalidConfigChangeError('a configuration needs at least one voter');
      return {
        voters: sorted(voters),
        learners: config.learners.filter((node) => !voters.has(node)),
        outgoingVoters: [...config.voters],
      };
    }
    case 'leaveJoint': {
      if (!isJoint(config)) throw new InvalidConfigChangeError('the configuration is not joint');
      return { ...config, outgoingVoters: [] };
    }
  }
}

const CHANGE_TAGS = ['addLearner', 'removeLearner', 'promoteLearner', 'changeVoters', 'leaveJoint'] as const;
const MAX_CHANGE_NODES = 256;

/** Layout: tag byte, then for node changes a u32 id, for voter changes u16 counts and u32 ids. */
export function encodeConfigChange(change: ConfigChange): Uint8Array {
  const tag = CHANGE_TAGS.indexOf(change.type);
  if (change.type === 'changeVoters') {
    const bytes = new Uint8Array(1 + 4 + 4 * (change.add.length + change.remove.length));
    const view = new DataView(bytes.buffer);
    bytes[0] = tag;
    view.setUint16(1, change.add.length);
    view.setUint16(3, change.remove.length);
    let offset = 5;
    for (const node of [...change.add, ...change.remove]) {
      view.setUint32(offset, node);
      offset += 4;
    }
    return bytes;
  }
  if (change.type === 'leaveJoint') return Uint8Array.of(tag);
  const bytes = new Uint8Array(5);
  bytes[0] = tag;
  new DataView(bytes.buffer).setUint32(1, change.node);
  return bytes;
}

export function decodeConfigChange(bytes: Uint8Array): ConfigChange {
  const fail = (reason: string): never => {
    throw new MessageDecodeError('config change', reason);
  };
  if (bytes.length < 1) fail('empty');
  const type = CHANGE_TAGS[bytes[0]!];
  if (type === undefined) return fail(`unknown tag ${bytes[0]}`);
  const view = dataViewOf(bytes);
  const node = (offset: number): NodeId => {
    const value = view.getUint32(offset);
    if (value === 0) fail('node id 0');
    return value;
  };
  if (type === 'leaveJoint') {
    if (bytes.length !== 1) fail('trailing bytes');
    return { type };
  }
  if (type === 'changeVoters') {
    if (bytes.length < 5) fail('truncated header');
    const addCount = view.getUint16(1);
    const removeCount = view.getUint16(3);
    if (addCount + removeCount > MAX_CHANGE_NODES) fail('too many nodes');
    if (bytes.length !== 5 + 4 * (addCount + removeCount)) fail('length does not match counts');
    const add: NodeId[] = [];
    const remove: NodeId[] = [];
    for (let index = 0; index < addCount; index++) add.push(node(5 + 4 * index));
    for (let index = 0; index < removeCount; index++) remove.push(node(5 + 4 * (addCount + index)));
    return { type, add, remove };
  }
  if (bytes.length !== 5) fail('length must be 5');
  return { type, node: node(1) };
}

/** Term of the entries that bootstrap a new cluster's configuration. */
export const BOOTSTRAP_TERM = 1;

/**
 * The log prefix every founding member starts with: one entry adding the voters, then one per
 * learner, all committed. Nodes that join later learn the configuration by replaying it.
 */
export function bootstrapEntries(config: ClusterConfig): Entry[] {
  if (isJoint(config)) throw new InvalidConfigChangeError('cannot bootstrap a joint configuration');
  const changes: ConfigChange[] = [];
  if (config.voters.length > 0) changes.push({ type: 'changeVoters', add: config.voters, remove: [] });
  for (const node of config.learners) changes.push({ type: 'addLearner', node });
  return changes.map((change, position) => ({
    term: BOOTSTRAP_TERM,
    index: position + 1,
    kind: 'config',
    data: encodeConfigChange(change),
  }));
}
