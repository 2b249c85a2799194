/**
 * The client session that makes write retries exactly-once. Every write carries a client id and a
 * sequence number in gRPC metadata; all attempts of one logical write send the same pair, so a node
 * that already applied it answers the recorded result instead of applying it again.
 *
 * A node remembers only the latest sequence per client id and refuses older ones, which allows one
 * write in flight per id. So that a client can still have several writes in flight, it writes on
 * "lanes": lane 0 uses the client id itself, lane n uses `<client id>.<n>`; each lane has its own
 * sequence and carries one write at a time. Lanes are bounded, and so is the queue of writes
 * waiting for one.
 */
import * as grpc from '@grpc/grpc-js';
import type { Random } from '../lib/index.js';
import { MeshClientError } from './errors.js';
import { MAX_QUEUED_WRITES, MAX_WRITE_LANES } from './limits.js';

/** Metadata key holding the client's (lane's) id. */
export const CLIENT_ID_HEADER = 'meshos-client-id';
/** Metadata key holding the request's sequence number (decimal, starting at 1 on each lane). */
export const SEQUENCE_HEADER = 'meshos-sequence';

const CLIENT_ID_BYTES = 16;

/** A random client id: 32 lowercase hex digits. */
export function randomClientId(random: Random): string {
  return Array.from(random.bytes(CLIENT_ID_BYTES), (byte) => byte.toString(16).padStart(2, '0')).join('');
}

/** The session identity of one logical write; `release()` once it has finished, however it ended. */
export interface WriteTicket {
  readonly clientId: string;
  readonly sequence: number;
  /** Fresh metadata carrying the pair, for one attempt. */
  metadata(): grpc.Metadata;
  release(): void;
}

interface Lane {
  readonly clientId: string;
  lastSequence: number;
  busy: boolean;
}

export class ClientSession {
  private readonly lanes: Lane[] = [];
  private readonly waiting: Array<(lane: Lane) => void> = [];
  private writes = 0;

  constructor(readonly clientId: string) {}

  /** Writes begun so far. */
  get sequence(): number {
    return this.writes;
  }

  /** Takes a free lane (waiting for one if all are busy) and the lane's next sequence. */
  async begin(): Promise<WriteTicket> {
    const lane = this.freeLane() ?? (await this.waitForLane());
    lane.busy = true;
    lane.lastSequence += 1;
    this.writes += 1;
    const { clientId, lastSequence: sequence } = lane;
    let released = false;
    return {
      clientId,
      sequence,
      metadata: () => {
        const metadata = new grpc.Metadata();
        metadata.set(CLIENT_ID_HEADER, clientId);
        metadata.set(SEQUENCE_HEADER, String(sequence));
        return metadata;
      },
      release: () => {
        if (released) return;
        released = true;
        this.release(lane);
      },
    };
  }

  private freeLane(): Lane | undefined {
    const idle = this.lanes.find((lane) => !lane.busy);
    if (idle !== undefined) return idle;
    if (this.lanes.length >= MAX_WRITE_LANES) return undefined;
    const lane: Lane = {
      clientId: this.lanes.length === 0 ? this.clientId : `${this.clientId}.${this.lanes.length}`,
      lastSequence: 0,
      busy: false,
    };
    this.lanes.push(lane);
    return lane;
  }

  private waitForLane(): Promise<Lane> {
    if (this.waiting.length >= MAX_QUEUED_WRITES) {
      return Promise.reject(
        new MeshClientError(
          'TOO_MANY_REQUESTS',
          `more than ${MAX_QUEUED_WRITES} writes are waiting to be sent`,
          {
            retryable: true,
          },
        ),
      );
    }
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  private release(lane: Lane): void {
    const next = this.waiting.shift();
    if (next !== undefined) {
      // Handed straight over, still busy, so no newcomer can take it in between.
      next(lane);
      return;
    }
    lane.busy = false;
  }
}
