/**
 * Closed-loop senders of events to one daemon, each with its own client id and increasing
 * sequence, payloads never sent twice (`<client>-<counter>`), recording what each send answered:
 * acknowledged (`ok`), certainly not applied (`fail`: a code that says so, or a call that never
 * reached a node), or anything else (`info`: it may or may not have been applied). A sender whose
 * call fails moves on to the next endpoint.
 */
import type { DaemonSendOperation } from '../support/daemon-history.js';
import { until } from '../support/until.js';
import { nanosecondsNow } from './chain-appenders.js';
import { RawDaemonsClient, RawDaemonsError } from './raw-daemons-client.js';

/** Codes that prove an event was applied nowhere. */
const NOT_APPLIED_CODES: ReadonlySet<string> = new Set([
  'DAEMON_UNAVAILABLE',
  'DAEMON_PROCESS_FAILED',
  'DAEMON_EVENT_TOO_LARGE',
  'DAEMON_NOT_FOUND',
  'VALIDATION_FAILED',
]);
/** grpc-js's status for a call that found no connection: it never left this process. */
const GRPC_UNAVAILABLE = 14;
/** Pause after a failed send, so senders do not spin while no active answers. */
const FAILED_SEND_PAUSE_MS = 50;

/** The load of the daemons fault tests: 16 closed-loop senders, 3 s a send, at most 2,000 sends each and 150 s. */
export const FAULT_TEST_LOAD = {
  senders: 16,
  maxSendsPerSender: 2_000,
  maxDurationMs: 150_000,
  sendTimeoutMs: 3_000,
} as const;

/** The load of the repair tests (a member re-placed while events flow): 4 senders, otherwise as FAULT_TEST_LOAD. */
export const REPAIR_TEST_LOAD = { ...FAULT_TEST_LOAD, senders: 4 } as const;

/** Routing keys among `keys`: sender `client`'s `counter`th event's, every sender writing every key in turn. */
export function rotatingKeys(keys: number): (client: number, counter: number) => string {
  return (client, counter) => `key-${(client * 5 + counter) % keys}`;
}

export interface DaemonSendersOptions {
  readonly endpoints: readonly string[];
  readonly daemon: string;
  readonly senders: number;
  readonly maxSendsPerSender: number;
  readonly maxDurationMs: number;
  readonly sendTimeoutMs: number;
  /** The routing key of each send (replica groups route by it); none when absent. */
  readonly keyOf?: (client: number, counter: number) => string;
}

export class DaemonSenders {
  readonly operations: DaemonSendOperation[] = [];
  private running = true;
  private readonly loops: Promise<void>[];

  constructor(private readonly options: DaemonSendersOptions) {
    const deadline = Date.now() + options.maxDurationMs;
    this.loops = Array.from({ length: options.senders }, (_, client) => this.loop(client, deadline));
  }

  private async loop(client: number, deadline: number): Promise<void> {
    const { endpoints, daemon } = this.options;
    const clients = endpoints.map((endpoint) => new RawDaemonsClient(endpoint));
    let endpoint = client % clients.length;
    for (
      let counter = 1;
      this.running && counter <= this.options.maxSendsPerSender && Date.now() < deadline;
      counter++
    ) {
      const value = `${client}-${counter}`;
      const key = this.options.keyOf?.(client, counter);
      const routed = key === undefined ? {} : { key };
      const callTs = nanosecondsNow();
      try {
        const result = await clients[endpoint]!.send(
          daemon,
          value,
          this.options.sendTimeoutMs,
          { clientId: `sender-${client}`, sequence: counter },
          key,
        );
        this.operations.push({
          client,
          daemon,
          value,
          counter,
          ...routed,
          status: 'ok',
          memberIndex: result.memberIndex,
          inboundOffset: result.inboundOffset,
          callTs,
          returnTs: nanosecondsNow(),
        });
      } catch (error) {
        const notApplied =
          error instanceof RawDaemonsError &&
          ((error.code !== undefined && NOT_APPLIED_CODES.has(error.code)) ||
            (error.code === undefined &&
              error.grpcCode === GRPC_UNAVAILABLE &&
              /No connection established/.test(error.message)));
        this.operations.push(
          notApplied
            ? {
                client,
                daemon,
                value,
                counter,
                ...routed,
                status: 'fail',
                callTs,
                returnTs: nanosecondsNow(),
              }
            : { client, daemon, value, counter, ...routed, status: 'info', callTs },
        );
        endpoint = (endpoint + 1) % clients.length;
        await new Promise((resolve) => setTimeout(resolve, FAILED_SEND_PAUSE_MS));
      }
    }
    for (const connection of clients) connection.close();
  }

  /** Acknowledged sends so far; with `since` (nanoseconds), only those invoked after it. */
  acknowledged(since = 0): number {
    return this.operations.filter((operation) => operation.status === 'ok' && operation.callTs >= since)
      .length;
  }

  /** Waits until `count` sends invoked after `since` (nanoseconds) were acknowledged, failing after `timeoutMs`. */
  async awaitAcknowledged(count: number, what: string, timeoutMs: number, since = 0): Promise<void> {
    await until(() => this.acknowledged(since) >= count, what, timeoutMs);
  }

  /**
   * Waits for a repair (`repaired` resolves once it is seen), then until `count` sends invoked
   * after it were acknowledged: the mesh serves again after the repair, not only before it.
   * Answers when the repair was seen (nanoseconds).
   */
  async awaitRepairThenAcknowledged(
    repaired: () => Promise<void>,
    count: number,
    timeoutMs: number,
  ): Promise<number> {
    await repaired();
    const repairedAt = nanosecondsNow();
    await this.awaitAcknowledged(count, 'events after the repair', timeoutMs, repairedAt);
    return repairedAt;
  }

  /** The first acknowledged send invoked after `since`: its return time (nanoseconds). */
  firstAcknowledgedAfter(since: number): number | undefined {
    const returns = this.operations
      .filter((operation) => operation.status === 'ok' && operation.callTs >= since)
      .map((operation) => operation.returnTs ?? Number.POSITIVE_INFINITY);
    return returns.length === 0 ? undefined : Math.min(...returns);
  }

  async stop(): Promise<void> {
    this.running = false;
    await Promise.all(this.loops);
  }
}
