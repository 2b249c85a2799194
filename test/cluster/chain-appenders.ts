import { MeshClient, MeshClientError } from '../../src/client/index.js';
import type { ChainAppendOperation } from '../support/chain-history.js';

export interface ChainAppendersOptions {
  /** Client endpoints; appender `c` starts at endpoint `c mod n` and fails over in order. */
  readonly endpoints: readonly string[];
  readonly chain: string;
  readonly clients: number;
  /** Bounds: each appender stops after this many appends or when the load has run this long. */
  readonly maxAppendsPerClient: number;
  readonly maxDurationMs: number;
  /** Each append's budget, the client's retries included. */
  readonly appendTimeoutMs: number;
  /**
   * Pause between one appender's appends (default none): a paced load lasts its whole time bound
   * instead of spending its count early, for tests that need appends after a slow event.
   */
  readonly paceMs?: number;
  /**
   * Closed loops per client sharing its `MeshClient` (default 1): each has one append in flight,
   * so a client pipelines this many on its append stream. Each loop is its own history client
   * (`client * lanes + lane`).
   */
  readonly lanes?: number;
}

/** Pause after a failed append, so appenders do not spin while no leader answers. */
const FAILED_APPEND_PAUSE_MS = 50;

/** The history's clock: nanoseconds of the process's monotonic clock. */
export function nanosecondsNow(): number {
  return Number(process.hrtime.bigint());
}

/**
 * Closed-loop appenders on one chain, each writing values never written before
 * (`<client>-<counter>`) and recording what it saw: acknowledged with its offset (`ok`), refused
 * before it was proposed (`fail`: the client only gives up with a retryable error when no attempt
 * was written), or anything else (`info`: it may or may not be in the chain).
 */
export class ChainAppenders {
  readonly operations: ChainAppendOperation[] = [];
  private running = true;
  private readonly loops: Promise<void>[];

  constructor(private readonly options: ChainAppendersOptions) {
    const deadline = Date.now() + options.maxDurationMs;
    this.loops = Array.from({ length: options.clients }, (_, client) => this.runClient(client, deadline));
  }

  private async runClient(client: number, deadline: number): Promise<void> {
    const { endpoints } = this.options;
    const lanes = this.options.lanes ?? 1;
    const connection = await MeshClient.connect({
      endpoints: endpoints.map((_, offset) => endpoints[(client + offset) % endpoints.length]!),
      discoverLeader: false,
      timeoutMs: this.options.appendTimeoutMs,
    });
    try {
      await Promise.all(
        Array.from({ length: lanes }, (_, lane) => this.loop(connection, client * lanes + lane, deadline)),
      );
    } finally {
      connection.close();
    }
  }

  private async loop(connection: MeshClient, client: number, deadline: number): Promise<void> {
    const { chain } = this.options;
    for (
      let counter = 0;
      this.running && counter < this.options.maxAppendsPerClient && Date.now() < deadline;
      counter++
    ) {
      const value = `${client}-${counter}`;
      const callTs = nanosecondsNow();
      try {
        const result = await connection.chains.append(chain, new TextEncoder().encode(value));
        this.operations.push({
          client,
          chain,
          value,
          status: 'ok',
          offset: result.firstOffset,
          callTs,
          returnTs: nanosecondsNow(),
        });
      } catch (error) {
        const refused = error instanceof MeshClientError && error.retryable;
        this.operations.push(
          refused
            ? { client, chain, value, status: 'fail', callTs, returnTs: nanosecondsNow() }
            : { client, chain, value, status: 'info', callTs },
        );
        await new Promise((resolve) => setTimeout(resolve, FAILED_APPEND_PAUSE_MS));
        continue;
      }
      if (this.options.paceMs !== undefined)
        await new Promise((resolve) => setTimeout(resolve, this.options.paceMs));
    }
  }

  /** Acknowledged appends so far; with `since` (nanoseconds), only those invoked after it. */
  acknowledged(since = 0): number {
    return this.operations.filter((operation) => operation.status === 'ok' && operation.callTs >= since)
      .length;
  }

  /** Stops every appender after its append in flight. */
  async stop(): Promise<void> {
    this.running = false;
    await Promise.all(this.loops);
  }
}

/**
 * Where one loop's acknowledged appends are out of the order it made them in: a loop makes its
 * appends one after another, so their offsets must grow in that order.
 */
export function loopOrderProblems(operations: readonly ChainAppendOperation[]): string[] {
  const offsetsByLoop = new Map<number, { callTs: number; offset: number }[]>();
  for (const operation of operations) {
    if (operation.status !== 'ok' || operation.offset === undefined) continue;
    const offsets = offsetsByLoop.get(operation.client) ?? [];
    offsets.push({ callTs: operation.callTs, offset: operation.offset });
    offsetsByLoop.set(operation.client, offsets);
  }
  const problems: string[] = [];
  for (const [loop, offsets] of offsetsByLoop) {
    offsets.sort((a, b) => a.callTs - b.callTs);
    for (let index = 1; index < offsets.length; index++) {
      const [earlier, later] = [offsets[index - 1]!, offsets[index]!];
      if (later.offset <= earlier.offset)
        problems.push(`loop ${loop}: offset ${earlier.offset} then ${later.offset}`);
    }
  }
  return problems;
}
