import {
  describeValue,
  Hash64Result,
  hash64Into,
  hash64PrefixedInto,
  InputProblems,
  isRecord,
  ValidationError,
} from '../lib/index.js';
import { ChainGapError, ChainGenesisError, ChainOriginError, ChainParentError } from './errors.js';

/**
 * One link of a daemon's causal chain. Link 0 is the genesis (parent 0, no payload); link n
 * carries the daemon's n-th output and `parentHash` = hash(link n-1 header || payload n-1).
 * `horizon` is how many inbound events the daemon had applied when it produced the output,
 * which ties every output to the input position that caused it.
 */
export interface CausalLink {
  readonly originHash: bigint;
  readonly sequence: number;
  readonly parentHash: bigint;
  readonly horizon: number;
}

export interface ChainEntry {
  readonly link: CausalLink;
  readonly payload: Uint8Array;
}

/** Parent hash and horizon, 8 little-endian bytes each, hashed before the payload. */
export const LINK_HASHED_HEADER_BYTES = 16;
const TWO_POW_32 = 0x1_0000_0000;
const INITIAL_SCRATCH_BYTES = 1024;

export function genesisLink(originHash: bigint): CausalLink {
  return { originHash, sequence: 0, parentHash: 0n, horizon: 0 };
}

/** Splits a non-negative bigint below 2^64 into 32-bit halves. */
export function highHalf(value: bigint): number {
  return Number((value >> 32n) & 0xffffffffn);
}

export function lowHalf(value: bigint): number {
  return Number(value & 0xffffffffn);
}

export function joinHalves(high: number, low: number): bigint {
  return (BigInt(high) << 32n) | BigInt(low);
}

/**
 * Computes link hashes without allocating. A link's hash is xxHash64 over
 * `parent (8 bytes) || horizon (8 bytes) || payload`, seeded with `origin + sequence`
 * (mod 2^64): every field of the link is covered, and the hashed input stays under one
 * 32-byte stripe for small payloads, which keeps the hot path short. One hasher per
 * owner; not re-entrant.
 */
export class LinkHasher {
  private scratch = new Uint8Array(INITIAL_SCRATCH_BYTES);
  readonly result = new Hash64Result();

  /** Hash of a link given as 32-bit halves, followed by its payload; left in `result`. */
  hashInto(
    originHigh: number,
    originLow: number,
    sequence: number,
    parentHigh: number,
    parentLow: number,
    horizon: number,
    payload: Uint8Array,
  ): void {
    const sequenceLow = sequence >>> 0;
    const seedLow = originLow + sequenceLow;
    const seedHigh = (originHigh + Math.floor(sequence / TWO_POW_32) + (seedLow > 0xffffffff ? 1 : 0)) >>> 0;
    const horizonHigh = Math.floor(horizon / TWO_POW_32);
    const horizonLow = horizon >>> 0;
    // Small payloads (the common case) are hashed without copying.
    if (
      hash64PrefixedInto(
        seedHigh,
        seedLow >>> 0,
        parentHigh,
        parentLow,
        horizonHigh,
        horizonLow,
        payload,
        this.result,
      )
    ) {
      return;
    }
    const total = LINK_HASHED_HEADER_BYTES + payload.length;
    if (total > this.scratch.length) {
      let size = this.scratch.length;
      while (size < total) size *= 2;
      this.scratch = new Uint8Array(size);
    }
    const bytes = this.scratch;
    writeUint32(bytes, 0, parentLow);
    writeUint32(bytes, 4, parentHigh);
    writeUint32(bytes, 8, horizonLow);
    writeUint32(bytes, 12, horizonHigh);
    bytes.set(payload, LINK_HASHED_HEADER_BYTES);
    hash64Into(bytes, 0, total, seedHigh, seedLow >>> 0, this.result);
  }

  hashLink(link: CausalLink, payload: Uint8Array): bigint {
    this.hashInto(
      highHalf(link.originHash),
      lowHalf(link.originHash),
      link.sequence,
      highHalf(link.parentHash),
      lowHalf(link.parentHash),
      link.horizon,
      payload,
    );
    return this.result.toBigInt();
  }
}

function writeUint32(bytes: Uint8Array, offset: number, value: number): void {
  bytes[offset] = value & 0xff;
  bytes[offset + 1] = (value >>> 8) & 0xff;
  bytes[offset + 2] = (value >>> 16) & 0xff;
  bytes[offset + 3] = (value >>> 24) & 0xff;
}

const sharedHasher = new LinkHasher();

/** The parent hash the link after (`link`, `payload`) must carry. */
export function hashLink(link: CausalLink, payload: Uint8Array): bigint {
  return sharedHasher.hashLink(link, payload);
}

/** The link that follows `previous` (with payload `previousPayload`), produced at `horizon`. */
export function nextLink(previous: CausalLink, previousPayload: Uint8Array, horizon: number): CausalLink {
  return {
    originHash: previous.originHash,
    sequence: previous.sequence + 1,
    parentHash: hashLink(previous, previousPayload),
    horizon,
  };
}

/**
 * Checks a chain one link at a time: right origin, no gaps, and every parent hash equal to
 * the hash of the link before it. Rejections are typed (`CHAIN_WRONG_ORIGIN`,
 * `CHAIN_SEQUENCE_GAP`, `CHAIN_WRONG_PARENT`, `CHAIN_BAD_GENESIS`); a rejected link leaves
 * the validator where it was, so the caller may retry with the right one.
 */
export class ChainValidator {
  private expectedSequence: number;
  private expectedParent: bigint;

  private constructor(
    readonly originHash: bigint,
    expectedSequence: number,
    expectedParent: bigint,
  ) {
    this.expectedSequence = expectedSequence;
    this.expectedParent = expectedParent;
  }

  /** A validator that expects the chain's genesis link first. */
  static fromGenesis(originHash: bigint): ChainValidator {
    if (typeof originHash !== 'bigint') {
      throw new ValidationError('chain origin', [
        `originHash must be a bigint, got ${describeValue(originHash)}`,
      ]);
    }
    return new ChainValidator(originHash, 0, 0n);
  }

  /** A validator that continues after a trusted link (e.g. a snapshot's head). */
  static after(trusted: CausalLink, trustedPayload: Uint8Array): ChainValidator {
    requireEntry('trusted link', trusted, trustedPayload);
    return new ChainValidator(trusted.originHash, trusted.sequence + 1, hashLink(trusted, trustedPayload));
  }

  get nextSequence(): number {
    return this.expectedSequence;
  }

  accept(link: CausalLink, payload: Uint8Array): void {
    requireEntry('chain link', link, payload);
    if (link.originHash !== this.originHash) {
      throw new ChainOriginError(this.originHash, link.originHash, link.sequence);
    }
    if (link.sequence !== this.expectedSequence)
      throw new ChainGapError(this.expectedSequence, link.sequence);
    if (link.sequence === 0) {
      if (link.parentHash !== 0n) throw new ChainGenesisError(`parent must be 0, got ${link.parentHash}`);
      if (payload.length !== 0)
        throw new ChainGenesisError(`payload must be empty, got ${payload.length} bytes`);
    } else if (link.parentHash !== this.expectedParent) {
      throw new ChainParentError(link.sequence, this.expectedParent, link.parentHash);
    }
    this.expectedParent = hashLink(link, payload);
    this.expectedSequence = link.sequence + 1;
  }
}

/** Validates a whole chain that starts at its genesis link. */
export function validateChain(originHash: bigint, entries: readonly ChainEntry[]): void {
  const validator = ChainValidator.fromGenesis(originHash);
  if (!Array.isArray(entries)) {
    throw new ValidationError('chain', [`entries must be an array, got ${describeValue(entries)}`]);
  }
  for (const entry of entries) {
    if (typeof entry !== 'object' || entry === null)
      throw new ValidationError('chain', [`an entry must be an object, got ${describeValue(entry)}`]);
    validator.accept(entry.link, entry.payload);
  }
}

/** Links may come from another node or from plain JavaScript: their shape is checked before they are hashed. */
function requireEntry(subject: string, link: CausalLink, payload: Uint8Array): void {
  if (
    isRecord(link) &&
    typeof link.originHash === 'bigint' &&
    typeof link.parentHash === 'bigint' &&
    Number.isSafeInteger(link.sequence) &&
    Number.isSafeInteger(link.horizon) &&
    payload instanceof Uint8Array
  ) {
    return;
  }
  const problems = new InputProblems();
  if (problems.record('link', link)) {
    if (typeof link.originHash !== 'bigint')
      problems.add(`link.originHash must be a bigint, got ${describeValue(link.originHash)}`);
    if (typeof link.parentHash !== 'bigint')
      problems.add(`link.parentHash must be a bigint, got ${describeValue(link.parentHash)}`);
    // Any integer has the right shape; a wrong one is the chain's CHAIN_* error to report.
    problems.integer('link.sequence', link.sequence, Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER);
    problems.integer('link.horizon', link.horizon, Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER);
  }
  if (!(payload instanceof Uint8Array))
    problems.add(`payload must be a Uint8Array, got ${describeValue(payload)}`);
  throw new ValidationError(subject, problems.list);
}
