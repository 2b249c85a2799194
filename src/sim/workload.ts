import type { Random } from '../lib/index.js';
import type { NodeId } from '../raft/index.js';
import type { ClientRequest, ClientResponse } from './client-protocol.js';
import type { KvCommand } from './kv/commands.js';
import type { HistoryOperation } from './linearizability/index.js';
import type { Scheduler } from './scheduler.js';

/** A client gives up on one attempt after this long and tries another node. */
export const CLIENT_ATTEMPT_TIMEOUT_US = 100_000;
/** Backoff before retrying after a refusal: doubles per refusal from the first, up to the max. */
export const CLIENT_RETRY_BACKOFF_FIRST_US = 1_000;
export const CLIENT_RETRY_BACKOFF_MAX_US = 80_000;
/** Pause between one operation's answer and the next call. */
export const CLIENT_THINK_TIME_MAX_US = 20_000;

/** How a client reaches the cluster: the simulation delivers requests and answers with delays. */
export interface ClusterAccess {
  readonly nodeIds: readonly NodeId[];
  submit(node: NodeId, request: ClientRequest, onResponse: (response: ClientResponse) => void): void;
}

/** An acknowledged write, for the end-of-run "no acknowledged write lost" check. */
export interface AcknowledgedWrite {
  readonly clientId: string;
  readonly key: string;
  readonly value: string;
  readonly index: number;
}

interface InFlight {
  readonly sequence: number;
  readonly command: KvCommand;
  readonly callUs: number;
  attempt: number;
  refusals: number;
  node: NodeId;
}

const decoder = new TextDecoder();

/**
 * One key-value client with at most one operation in flight. Retries (after a timeout, a
 * redirect or a refusal) go to another node with the SAME session sequence, so a write that
 * committed already is answered from the session table instead of being applied twice.
 */
export class SimClient {
  readonly name: string;
  private sequence = 0;
  private counter = 0;
  private current: InFlight | undefined;
  private issuing = true;
  private readonly lastSeen = new Map<string, string | null>();
  private preferredNode: NodeId;

  constructor(
    readonly clientNumber: number,
    private readonly random: Random,
    private readonly scheduler: Scheduler,
    private readonly cluster: ClusterAccess,
    private readonly keys: readonly string[],
    private readonly history: HistoryOperation[],
    private readonly acknowledged: AcknowledgedWrite[],
  ) {
    this.name = `c${clientNumber}`;
    this.preferredNode = cluster.nodeIds[random.nextInt(cluster.nodeIds.length)]!;
  }

  get busy(): boolean {
    return this.current !== undefined;
  }

  start(): void {
    this.scheduleNext();
  }

  /** Stops new operations; the one in flight keeps retrying until answered. */
  stopIssuing(): void {
    this.issuing = false;
  }

  /** Issues one given operation now (used for the liveness probe). */
  issue(command: KvCommand): void {
    if (this.current !== undefined) return;
    this.begin(command);
  }

  /** At the end of the run: an operation still in flight becomes `info`. */
  abandon(): void {
    const current = this.current;
    if (current === undefined) return;
    this.current = undefined;
    this.history.push(this.toHistory(current, 'info'));
  }

  private scheduleNext(): void {
    if (!this.issuing) return;
    this.scheduler.schedule(
      this.random.nextInt(CLIENT_THINK_TIME_MAX_US),
      'client next',
      () => {
        if (this.issuing && this.current === undefined) this.begin(this.nextCommand());
      },
      this.clientNumber,
    );
  }

  private nextCommand(): KvCommand {
    const key = this.keys[this.random.nextInt(this.keys.length)]!;
    const roll = this.random.nextInt(10);
    if (roll < 3) return { kind: 'get', key };
    const value = `${this.clientNumber}-${++this.counter}`;
    if (roll < 8) return { kind: 'put', key, value };
    const expected = this.random.chance(0.2) ? null : (this.lastSeen.get(key) ?? null);
    return { kind: 'cas', key, expected, value };
  }

  private begin(command: KvCommand): void {
    // Half the reads go to any node: a follower forwards its ReadIndex to the leader.
    const ids = this.cluster.nodeIds;
    const node =
      command.kind === 'get' && this.random.chance(0.5)
        ? ids[this.random.nextInt(ids.length)]!
        : this.preferredNode;
    this.current = {
      sequence: ++this.sequence,
      command,
      callUs: this.scheduler.nowUs,
      attempt: 0,
      refusals: 0,
      node,
    };
    this.send();
  }

  private send(): void {
    const current = this.current!;
    const attempt = ++current.attempt;
    const request: ClientRequest = {
      clientId: this.name,
      sequence: current.sequence,
      attemptId: `${this.name}:${current.sequence}:${attempt}`,
      attempt,
      command: current.command,
    };
    this.cluster.submit(current.node, request, (response) => this.onResponse(response));
    this.scheduler.schedule(
      CLIENT_ATTEMPT_TIMEOUT_US,
      'client timeout',
      () => {
        if (this.current === current && current.attempt === attempt)
          this.retry(this.otherNode(current.node), 0);
      },
      this.clientNumber,
      current.sequence,
      attempt,
    );
  }

  private retry(node: NodeId, backoffUs: number): void {
    const current = this.current!;
    current.node = node;
    current.attempt++;
    const attempt = current.attempt;
    this.scheduler.schedule(
      backoffUs,
      'client retry',
      () => {
        if (this.current === current && current.attempt === attempt) this.send();
      },
      this.clientNumber,
      current.sequence,
      attempt,
    );
  }

  private onResponse(response: ClientResponse): void {
    const current = this.current;
    if (current === undefined || response.sequence !== current.sequence) return;
    switch (response.kind) {
      case 'not-leader': {
        const hinted = response.leaderId !== 0 && response.leaderId !== current.node;
        const next = hinted ? response.leaderId : this.otherNode(current.node);
        this.retry(next, hinted ? 0 : this.backoff(current));
        return;
      }
      case 'retry':
        this.retry(this.otherNode(current.node), this.backoff(current));
        return;
      case 'ok':
        this.finish(current, response.result, response.index);
        return;
    }
  }

  private finish(current: InFlight, result: Uint8Array, index: number): void {
    this.current = undefined;
    if (current.command.kind !== 'get') this.preferredNode = current.node;
    const command = current.command;
    const base = this.toHistory(current, 'ok');
    const returnTs = this.scheduler.nowUs;
    switch (command.kind) {
      case 'get': {
        const value = result[0] === 1 ? decoder.decode(result.subarray(1)) : null;
        this.lastSeen.set(command.key, value);
        this.history.push({ ...base, value, return_ts: returnTs });
        break;
      }
      case 'put':
        this.lastSeen.set(command.key, command.value);
        this.acknowledged.push({ clientId: this.name, key: command.key, value: command.value, index });
        this.history.push({ ...base, return_ts: returnTs });
        break;
      case 'cas': {
        const swapped = result[0] === 1;
        if (swapped) {
          this.lastSeen.set(command.key, command.value);
          this.acknowledged.push({ clientId: this.name, key: command.key, value: command.value, index });
        }
        this.history.push({ ...base, ok: swapped, return_ts: returnTs });
        break;
      }
    }
    this.scheduleNext();
  }

  private toHistory(current: InFlight, status: 'ok' | 'info'): HistoryOperation {
    const command = current.command;
    const common = { client: this.clientNumber, key: command.key };
    const info = status === 'info' ? { status: 'info' as const } : {};
    switch (command.kind) {
      case 'get':
        return { ...common, op: 'get', value: null, ...info, call_ts: current.callUs };
      case 'put':
        return { ...common, op: 'put', value: command.value, ...info, call_ts: current.callUs };
      case 'cas':
        return {
          ...common,
          op: 'cas',
          expected: command.expected,
          value: command.value,
          ...info,
          call_ts: current.callUs,
        };
    }
  }

  private backoff(current: InFlight): number {
    const ceiling = Math.min(
      CLIENT_RETRY_BACKOFF_MAX_US,
      CLIENT_RETRY_BACKOFF_FIRST_US * 2 ** current.refusals,
    );
    current.refusals++;
    return this.random.nextInt(ceiling);
  }

  private otherNode(node: NodeId): NodeId {
    const ids = this.cluster.nodeIds;
    if (ids.length === 1) return node;
    const position = ids.indexOf(node);
    const step = 1 + this.random.nextInt(ids.length - 1);
    return ids[(position + step) % ids.length]!;
  }
}
