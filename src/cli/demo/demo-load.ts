/**
 * The demo's small, steady load: for each of `DEMO_LOAD_KEYS`, an event to the counter group every
 * `1000 / DEMO_EVENTS_PER_SECOND_PER_KEY` ms, one at a time, and each acknowledged event appended
 * to the demo chain. Every event carries a client id and a sequence, and a failed send is sent
 * again with the same ones, so across a failover each event is counted exactly once. The rate is
 * capped per process (`DEMO_LOAD_MAX_EVENTS_PER_SECOND`); `stop()` ends it cleanly.
 */
import { setTimeout as delay } from 'node:timers/promises';
import { bytesToText, type MeshClient } from '../../client/index.js';
import { assert } from '../../lib/index.js';
import type { CommandIo } from '../commands/index.js';
import { DEMO_CHAIN_NAME, DEMO_COUNTER_NAME } from './sample-app.js';

export const DEMO_LOAD_KEYS: readonly string[] = ['sensor-1', 'sensor-2', 'sensor-3'];
export const DEMO_EVENTS_PER_SECOND_PER_KEY = 2;
/** The most events a second one process's demo load sends, whatever the keys and rate say. */
export const DEMO_LOAD_MAX_EVENTS_PER_SECOND = 20;
assert(
  DEMO_LOAD_KEYS.length * DEMO_EVENTS_PER_SECOND_PER_KEY <= DEMO_LOAD_MAX_EVENTS_PER_SECOND,
  'the demo load stays under its per-process cap',
);
/** Budget of one send or append, retries inside the client included. */
const DEMO_CALL_TIMEOUT_MS = 5_000;
/** At most one line about failing sends per this long, so a failover does not flood the screen. */
const FAILURE_REPORT_INTERVAL_MS = 10_000;

export interface DemoLoadCounts {
  /** Events the counter acknowledged. */
  readonly counted: number;
  /** Records appended to the chain. */
  readonly appended: number;
  /** Calls that failed (each send is tried again). */
  readonly failures: number;
}

export class DemoLoad {
  private counted = 0;
  private appended = 0;
  private failures = 0;
  private failuresUnreported = 0;
  private lastFailureReportMs = 0;
  private readonly abort = new AbortController();
  private loops: Promise<void>[] = [];

  /** `runId` tells this run's client ids from an earlier run's (sequences restart at 1). */
  constructor(
    private readonly client: MeshClient,
    private readonly io: CommandIo,
    private readonly runId: string,
  ) {}

  start(): void {
    this.loops = DEMO_LOAD_KEYS.map((key) => this.runKey(key));
  }

  counts(): DemoLoadCounts {
    return { counted: this.counted, appended: this.appended, failures: this.failures };
  }

  /** Ends every loop after its call in flight (bounded by `DEMO_CALL_TIMEOUT_MS`). */
  async stop(): Promise<void> {
    this.abort.abort();
    await Promise.all(this.loops);
  }

  private async runKey(key: string): Promise<void> {
    const clientId = `demo-load.${key}.${this.runId}`;
    const intervalMs = 1000 / DEMO_EVENTS_PER_SECOND_PER_KEY;
    let sequence = 1;
    while (!this.abort.signal.aborted) {
      const startedMs = Date.now();
      try {
        const answer = await this.client.daemons.send(DEMO_COUNTER_NAME, '1', {
          key,
          clientId,
          sequence,
          timeoutMs: DEMO_CALL_TIMEOUT_MS,
        });
        sequence += 1;
        this.counted += 1;
        const record = {
          key,
          sequence: sequence - 1,
          sum: bytesToText(answer.outputs[0] ?? new Uint8Array()),
        };
        await this.client.chains.append(DEMO_CHAIN_NAME, JSON.stringify(record), {
          timeoutMs: DEMO_CALL_TIMEOUT_MS,
        });
        this.appended += 1;
      } catch (error) {
        this.noteFailure(error);
      }
      try {
        await delay(Math.max(0, intervalMs - (Date.now() - startedMs)), undefined, {
          signal: this.abort.signal,
        });
      } catch {
        // Aborted: the loop ends.
      }
    }
  }

  private noteFailure(error: unknown): void {
    if (this.abort.signal.aborted) return;
    this.failures += 1;
    this.failuresUnreported += 1;
    const now = Date.now();
    if (now - this.lastFailureReportMs < FAILURE_REPORT_INTERVAL_MS) return;
    const code = (error as { code?: string }).code;
    const message = error instanceof Error ? error.message : String(error);
    this.io.out(
      `load: ${this.failuresUnreported} call(s) failed, sending again (last: ${code === undefined ? '' : `${code}: `}${message})`,
    );
    this.failuresUnreported = 0;
    this.lastFailureReportMs = now;
  }
}
