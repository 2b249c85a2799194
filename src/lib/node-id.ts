import { ValidationError } from './errors.js';

/**
 * A node's id across the mesh: Raft members, worker nodes, daemon and chain placement all name
 * a node by it. A positive safe integer; 0 means "none" wherever `NodeId | 0` appears.
 */
export type NodeId = number;

export function isNodeId(value: unknown): value is NodeId {
  return typeof value === 'number' && Number.isSafeInteger(value) && value > 0;
}

/** Reads a node id from text (CLI flags, control-plane keys); rejects anything else with a typed error. */
export function parseNodeId(text: string): NodeId {
  const value = nodeIdFromText(text);
  if (value === undefined) {
    throw new ValidationError(`node id "${text}"`, ['must be a positive integer no larger than 2^53-1']);
  }
  return value;
}

/** The node id decimal `text` names, or undefined, for callers that report a bad id in their own words. */
export function nodeIdFromText(text: string): NodeId | undefined {
  const value = /^[1-9][0-9]*$/.test(text) ? Number(text) : Number.NaN;
  return isNodeId(value) ? value : undefined;
}
