/**
 * A daemon's trim floor on its inbound chain: the lowest offset any member may still read. Each
 * member needs the chain from its latest durable checkpoint on (a restart restores it and
 * replays from there); a member with none pins the floor at 0. Pure, so every node computes the
 * same floor from the same control-plane snapshot; a fork of the daemon being built pins the
 * offset it reads from. Replica groups (one chain per member, taken over by spare nodes that
 * replay it) are not trimmed: no floor for them.
 */
import { KEYSPACE_PREFIXES } from '../control/keyspace.js';
import type { NodeId } from '../lib/index.js';
import { inboundChainName } from './chain-names.js';
import type { DaemonDefinition } from './types.js';

/** Every trim key of `chain` (removed with the daemon, and before a deploy reuses its name). */
export function trimChainPrefix(chain: string): string {
  return `${KEYSPACE_PREFIXES.chainTrim}${chain}/`;
}

/** The floor key of `chain`: its value is the offset, as 20 decimal digits. */
export function trimFloorKey(chain: string): string {
  return `${trimChainPrefix(chain)}floor`;
}

/** Where members of `chain`'s daemon publish their durable checkpoint offsets, one key per node. */
export function trimCheckpointsPrefix(chain: string): string {
  return `${trimChainPrefix(chain)}checkpoints/`;
}

export function trimCheckpointKey(chain: string, node: NodeId): string {
  return `${trimCheckpointsPrefix(chain)}${node}`;
}

/** Where forks of `chain`'s daemon being built pin the offset they read from, one key per fork. */
export function trimPinsPrefix(chain: string): string {
  return `${trimChainPrefix(chain)}pins/`;
}

export function trimPinKey(chain: string, fork: string): string {
  return `${trimPinsPrefix(chain)}${fork}`;
}

const OFFSET_DIGITS = 20;

/** Fixed-width digits, so the control plane's byte order is the offsets' order. */
export function encodeTrimOffset(offset: number): Uint8Array {
  return new TextEncoder().encode(String(offset).padStart(OFFSET_DIGITS, '0'));
}

/** The offset in a floor or checkpoint value; undefined for anything else (treated as absent). */
export function decodeTrimOffset(value: Uint8Array): number | undefined {
  const text = new TextDecoder().decode(value);
  if (text.length !== OFFSET_DIGITS || !/^[0-9]+$/.test(text)) return undefined;
  const offset = Number(text);
  return Number.isSafeInteger(offset) ? offset : undefined;
}

/** The chain a daemon's floor applies to, or undefined when the daemon's chains are not trimmed. */
export function trimmedInboundChain(
  definition: Pick<DaemonDefinition, 'name' | 'group'>,
): string | undefined {
  return definition.group === 'replica' ? undefined : inboundChainName(definition.name);
}

/**
 * The floor: the lowest durable checkpoint offset over every member of the definition (active,
 * hot and warm standbys), 0 for a member without one, and at most `pins` (forks of this daemon
 * still being built read it from their start points).
 */
export function daemonTrimFloor(
  members: readonly NodeId[],
  checkpoints: ReadonlyMap<NodeId, number>,
  pins: readonly number[] = [],
): number {
  if (members.length === 0) return 0;
  let floor = Number.POSITIVE_INFINITY;
  for (const node of members) floor = Math.min(floor, checkpoints.get(node) ?? 0);
  for (const pin of pins) floor = Math.min(floor, pin);
  return Math.max(0, floor);
}
