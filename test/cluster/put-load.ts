import { RawKvClient } from './raw-client.js';

/** Each put gets this long; a slower answer counts as a client error. */
const PUT_TIMEOUT_MS = 5_000;

export interface PutLoadOptions {
  /** Clients spread over these endpoints, one connection each, round robin. */
  readonly endpoints: readonly string[];
  readonly clients: number;
  /** Bounds: each client stops after this many puts or when the load has run this long. */
  readonly maxPutsPerClient: number;
  readonly maxDurationMs: number;
}

export interface PutLoadResult {
  readonly acknowledged: number;
  /** One line per failed put: the endpoint and the error it answered. */
  readonly errors: readonly string[];
}

/**
 * A bounded put load: `clients` loops, each putting its own key over and over, until stopped
 * or a bound is reached. Failed puts are recorded, not retried, so a test can assert none.
 */
export class PutLoad {
  private running = true;
  private acknowledged = 0;
  private readonly errors: string[] = [];
  private readonly loops: Promise<void>[];

  constructor(options: PutLoadOptions) {
    const deadline = Date.now() + options.maxDurationMs;
    this.loops = Array.from({ length: options.clients }, async (_, client) => {
      const endpoint = options.endpoints[client % options.endpoints.length]!;
      const connection = new RawKvClient(endpoint);
      try {
        for (
          let count = 0;
          this.running && count < options.maxPutsPerClient && Date.now() < deadline;
          count++
        ) {
          try {
            await connection.put(`load-${client}`, String(count), PUT_TIMEOUT_MS);
            this.acknowledged++;
          } catch (error) {
            this.errors.push(`${endpoint}: ${error instanceof Error ? error.message : String(error)}`);
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
