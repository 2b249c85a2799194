import * as grpc from '@grpc/grpc-js';
import { etcdServices } from '../../src/api/proto.js';
import { PutLoad } from './put-load.js';

/** A lease's TTL: long enough that keepalives every `KEEPALIVE_INTERVAL_MS` keep it alive. */
const LEASE_TTL_SECONDS = 10;
const KEEPALIVE_INTERVAL_MS = 200;
/** The put clients' keys, and the end of the range the watchers watch: every key with the prefix. */
const PUT_KEY_PREFIX = 'stream-load-';
const PUT_KEY_RANGE_END = 'stream-load.';
/** Each unary call gets this long. */
const CALL_TIMEOUT_MS = 5_000;
/** Pause before a client reopens a stream the server ended (or reconnects after an error). */
const REOPEN_DELAY_MS = 100;

export interface StreamLoadOptions {
  /** Clients spread over these endpoints round robin, each on its own connection. */
  readonly endpoints: readonly string[];
  /** Clients that hold a Watch stream on a key range the put clients write. */
  readonly watchers: number;
  /** Clients that grant a lease and keep it alive on a LeaseKeepAlive stream. */
  readonly keepers: number;
  /** Clients that put their own key over and over (a `PutLoad`). */
  readonly putters: number;
  /** Bounds: every loop ends after this long (or at `stop()`), each putter after this many puts. */
  readonly maxDurationMs: number;
  readonly maxPutsPerClient: number;
}

export interface StreamLoadProgress {
  readonly puts: number;
  readonly watchEvents: number;
  readonly keepalives: number;
}

type UnaryCall = (
  request: object,
  options: grpc.CallOptions,
  callback: (error: grpc.ServiceError | null, response: unknown) => void,
) => void;
type BidiCall = () => grpc.ClientDuplexStream<object, unknown>;

/** One client connection of its own (grpc-js would otherwise share one per endpoint). */
function clientFor(definition: grpc.ServiceDefinition, endpoint: string): grpc.Client {
  const Constructor = grpc.makeGenericClientConstructor(definition, 'Service');
  return new Constructor(endpoint, grpc.credentials.createInsecure(), {
    'grpc.use_local_subchannel_pool': 1,
  });
}

/**
 * The etcd client traffic a member serves besides puts: long-lived Watch and LeaseKeepAlive
 * streams, reopened (as etcd's clients do) whenever the server ends them, plus put loops. Errors
 * are expected when a member stops and are not recorded; the load only counts its progress.
 */
export class StreamLoad {
  private running = true;
  private readonly counts = { watchEvents: 0, keepalives: 0 };
  private readonly puts: PutLoad;
  private readonly loops: Promise<void>[] = [];
  private readonly clients: grpc.Client[] = [];
  private readonly streams = new Set<grpc.ClientDuplexStream<object, unknown>>();
  private readonly deadline: number;

  constructor(private readonly options: StreamLoadOptions) {
    this.deadline = Date.now() + options.maxDurationMs;
    const endpointOf = (index: number): string => options.endpoints[index % options.endpoints.length]!;
    const services = etcdServices();
    for (let index = 0; index < options.watchers; index++) {
      const client = this.keep(clientFor(services.watch, endpointOf(index)));
      this.loops.push(this.watchLoop(client));
    }
    for (let index = 0; index < options.keepers; index++) {
      const client = this.keep(clientFor(services.lease, endpointOf(index + 1)));
      this.loops.push(this.keepAliveLoop(client));
    }
    this.puts = new PutLoad({
      endpoints: options.endpoints.map((_, index) => endpointOf(index + 2)),
      clients: options.putters,
      maxPutsPerClient: options.maxPutsPerClient,
      maxDurationMs: options.maxDurationMs,
      keyPrefix: PUT_KEY_PREFIX,
      failedPuts: 'pause',
    });
  }

  get progress(): StreamLoadProgress {
    return { puts: this.puts.acknowledgedSoFar, ...this.counts };
  }

  /** Waits (bounded) until every kind of traffic made `count` more steps: the load really runs. */
  async waitForProgress(count: number, timeoutMs: number): Promise<void> {
    const start = this.progress;
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const now = this.progress;
      const kinds = [
        this.options.putters === 0 || now.puts - start.puts >= count,
        this.options.watchers === 0 || now.watchEvents - start.watchEvents >= count,
        this.options.keepers === 0 || now.keepalives - start.keepalives >= count,
      ];
      if (kinds.every(Boolean)) return;
      if (Date.now() > deadline)
        throw new Error(`the stream load made no progress in ${timeoutMs} ms: ${JSON.stringify(now)}`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  async stop(): Promise<StreamLoadProgress> {
    this.running = false;
    for (const stream of this.streams) stream.cancel();
    await Promise.all([...this.loops, this.puts.stop()]);
    for (const client of this.clients) client.close();
    return this.progress;
  }

  private keep(client: grpc.Client): grpc.Client {
    this.clients.push(client);
    return client;
  }

  private get active(): boolean {
    return this.running && Date.now() < this.deadline;
  }

  private pause(): Promise<void> {
    return new Promise((resolve) => setTimeout(resolve, REOPEN_DELAY_MS));
  }

  private unary(client: grpc.Client, method: string, request: object): Promise<unknown> {
    const invoke = (client as unknown as Record<string, UnaryCall>)[method]!.bind(client);
    return new Promise((resolve, reject) => {
      invoke(request, { deadline: new Date(Date.now() + CALL_TIMEOUT_MS) }, (error, response) =>
        error ? reject(error) : resolve(response),
      );
    });
  }

  /** Opens `method`'s stream, lets `use` drive it, and resolves when the stream ends either way. */
  private stream(
    client: grpc.Client,
    method: string,
    use: (stream: grpc.ClientDuplexStream<object, unknown>, isOpen: () => boolean) => void,
  ): Promise<void> {
    const open = (client as unknown as Record<string, BidiCall>)[method]!.bind(client);
    const stream = open();
    this.streams.add(stream);
    let ended = false;
    return new Promise<void>((resolve) => {
      const done = (): void => {
        ended = true;
        this.streams.delete(stream);
        resolve();
      };
      stream.on('error', done);
      stream.on('end', done);
      stream.on('close', done);
      use(stream, () => !ended && this.active);
    });
  }

  private async watchLoop(client: grpc.Client): Promise<void> {
    while (this.active) {
      await this.stream(client, 'Watch', (stream) => {
        stream.on('data', (response: { events?: unknown[] }) => {
          this.counts.watchEvents += response.events?.length ?? 0;
        });
        stream.write({
          create_request: { key: Buffer.from(PUT_KEY_PREFIX), range_end: Buffer.from(PUT_KEY_RANGE_END) },
        });
      });
      if (this.active) await this.pause();
    }
  }

  private async keepAliveLoop(client: grpc.Client): Promise<void> {
    while (this.active) {
      let id: unknown;
      try {
        id = ((await this.unary(client, 'LeaseGrant', { TTL: LEASE_TTL_SECONDS, ID: 0 })) as { ID: unknown })
          .ID;
      } catch {
        await this.pause();
        continue;
      }
      await this.stream(client, 'LeaseKeepAlive', (stream, isOpen) => {
        stream.on('data', () => {
          this.counts.keepalives += 1;
        });
        const send = (): void => {
          if (!isOpen()) return;
          stream.write({ ID: id });
          setTimeout(send, KEEPALIVE_INTERVAL_MS);
        };
        send();
      });
      if (this.active) await this.pause();
    }
  }
}
