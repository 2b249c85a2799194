import { RawKvClient } from './raw-client.js';

/** Each put gets this long; a slower answer counts as a client error. */
const PUT_TIMEOUT_MS = 5_000;
/** A client that goes on after a failed put (`failedPuts: 'pause'`) first waits this long. */
const FAILED_PUT_PAUSE_MS = 100;

export interface PutLoadOptions {
  /** Clients spread over these endpoints, one connection each, round robin. */
  readonly endpoints: readonly string[];
  readonly clients: number;
  /** Bounds: each client stops after this many puts or when the load has run this long. */
  readonly maxPutsPerClient: number;
  readonly maxDurationMs: number;
  /** Client `n` puts the key `${keyPrefix}${n}`; 'load-' unless given. */
  readonly keyPrefix?: string;
  /**
   * What a failed put leaves: 'record' (the default) keeps its error for the result, so a test
   * can assert there were none; 'pause' (members are expected to stop under this load) waits
   * `FAILED_PUT_PAUSE_MS` and goes on, recording nothing.
   */
  readonly failedPuts?: 'record' | 'pause';
}

export interface PutLoadResult {
  readonly acknowledged: number;
  /** One line per failed put: the endpoint and the error it answered. */
  readonly errors: readonly string[];
}

/**
 * A bounded put load: `clients` loops, each putting its own key over and over, until stopped
 * or a bound is reached. Failed puts are not retried: recorded (so a test can assert none), or
 * only paused after (`failedPuts`).
 */
export class PutLoad {
  private running = true;
  private acknowledged = 0;
  private readonly errors: string[] = [];
  private readonly loops: Promise<void>[];

  constructor(options: PutLoadOptions) {
    const deadline = Date.now() + options.maxDurationMs;
    const keyPrefix = options.keyPrefix ?? 'load-';
    const pauseAfterFailure = options.failedPuts === 'pause';
    this.loops = Array.from({ length: options.clients }, async (_, client) => {
      const endpoint = options.endpoints[client % options.endpoints.length]!;
      const connection = new RawKvClient(endpoint, { ownConnection: true });
      try {
        for (
          let count = 0;
          this.running && count < options.maxPutsPerClient && Date.now() < deadline;
          count++
        ) {
          try {
            await connection.put(`${keyPrefix}${client}`, String(count), PUT_TIMEOUT_MS);
            this.acknowledged++;
          } catch (error) {
            if (pauseAfterFailure) await new Promise((resolve) => setTimeout(resolve, FAILED_PUT_PAUSE_MS));
            else this.errors.push(`${endpoint}: ${error instanceof Error ? error.message : String(error)}`);
          }
        }
      } finally {
        connection.close();
      }
    });
  }

  /** Puts acknowledged so far. */
  get acknowledgedSoFar(): number {
    return this.acknowledged;
  }

  /** Waits (bounded) until `count` more puts were acknowledged: the load is really running. */
  async waitForProgress(count: number, timeoutMs: number): Promise<void> {
    const target = this.acknowledged + count;
    const deadline = Date.now() + timeoutMs;
    while (this.acknowledged < target) {
      if (Date.now() > deadline)
        throw new Error(
          `the load made no progress in ${timeoutMs} ms: ${this.errors.slice(0, 5).join('; ')}`,
        );
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  async stop(): Promise<PutLoadResult> {
    this.running = false;
    await Promise.all(this.loops);
    return { acknowledged: this.acknowledged, errors: this.errors };
  }
}
