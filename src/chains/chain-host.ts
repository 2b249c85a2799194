/**
 * A node's chain host (docs/CHAINS.md "On a running node"): it follows the chain definitions,
 * runs a replica for each chain whose replicas or learners include this node (its log under
 * `<chainsDirectory>/<name>/`), feeds it every definition change, and closes it (removing its
 * files) when the chain is deleted or this node leaves its set. It owns the chains channel of
 * the peer transport: replica messages are decoded once and routed by chain name, forwarded
 * requests go to the request handler, answers to the requests this node forwarded. A replica
 * suspecting its leader makes the host propose the next epoch, once per epoch.
 */
import { ChangeWaiters, type Clock, type Logger, type NodeId } from '../lib/index.js';
import { CHAINS_PER_NODE_LIMIT, ChainLimitError, ChainOverloadedError } from './errors.js';
import { ForwardedRequests } from './forwarded-requests.js';
import {
  decodeHostFrame,
  encodeAnswerFrame,
  encodeReplicaFrame,
  type HostAnswer,
  type HostRequest,
} from './host-messages.js';
import type {
  ChainMessage,
  DefinitionFeed,
  FailoverProposer,
  HostedReplica,
  ReplicaMessageCodec,
  ReplicaOpener,
} from './host-ports.js';
import { DEFAULT_MAX_CHAINS_PER_NODE } from './placement.js';
import type { ChainDefinition, ChainPeerLink } from './types.js';

/** Least time between two failover proposals for one chain from this node. */
export const FAILOVER_PROPOSAL_MIN_INTERVAL_MS = 1_000;
/**
 * A proposal that could not be committed is tried again after this, doubling with each failure
 * up to `FAILOVER_PROPOSAL_MIN_INTERVAL_MS`. When the killed leader also led the control plane,
 * the first proposal meets it without a leader (its election takes about 100 ms): a retry a
 * second later made the chain's failover take a second instead of a tenth of one.
 */
export const FAILOVER_PROPOSAL_FIRST_RETRY_MS = 50;
/** Forwarded requests this node serves at once; more are refused with CHAIN_OVERLOADED. */
export const MAX_SERVED_REQUESTS_IN_FLIGHT = 10_000;

export interface ChainHostOptions<M extends ChainMessage> {
  readonly self: NodeId;
  /** `<dataDir>/chains`: each chain's log lives in a directory of its name under it. */
  readonly chainsDirectory: string;
  readonly link: ChainPeerLink;
  readonly codec: ReplicaMessageCodec<M>;
  readonly openReplica: ReplicaOpener<M>;
  /** Removes a closed replica's directory (and everything in it). */
  readonly removeDirectory: (directory: string) => Promise<void>;
  readonly definitions: DefinitionFeed;
  readonly proposeFailover: FailoverProposer;
  readonly clock: Clock;
  readonly logger?: Logger;
  /**
   * Chains (replicas and learners) this node holds at most (its `capacity.chains`,
   * `DEFAULT_MAX_CHAINS_PER_NODE` when absent). A definition naming this node past it is
   * refused: no replica is opened, the refusal is logged and listed (`refusedChains`), and it is
   * tried again when a held chain closes.
   */
  readonly maxChains?: number;
}

/** Serves a request forwarded by another node (the local side of `ChainRequests`). */
export type ForwardedRequestHandler = (from: NodeId, request: HostRequest) => Promise<HostAnswer>;

interface HeldChain<M extends ChainMessage> {
  /** The replica, once opened. */
  replica: HostedReplica<M> | undefined;
  /** Open, update and close run one at a time, in order. */
  work: Promise<void>;
}

export class ChainHost<M extends ChainMessage> {
  private readonly definitionsByName = new Map<string, ChainDefinition>();
  private readonly held = new Map<string, HeldChain<M>>();
  private readonly forwarded: ForwardedRequests;
  private readonly lastProposal = new Map<string, { epoch: number; atMs: number }>();
  private readonly changeWaiters: ChangeWaiters;
  private requestHandler: ForwardedRequestHandler | undefined;
  private failureListener: ((error: Error) => void) | undefined;
  private servedInFlight = 0;
  /** Replicas open or opening: what counts against `maxChains`. */
  private occupied = 0;
  /** Chains naming this node that it refused to open (past `maxChains`). */
  private readonly refused = new Set<string>();
  private following: { stop(): void } | undefined;
  private loadedResolve: (() => void) | undefined;
  private closed = false;
  /** Resolves once the first full set of definitions was seen. */
  readonly loaded: Promise<void>;
  /** Counters for metrics. */
  readonly counters = { decodeFailures: 0, openFailures: 0 };

  constructor(private readonly options: ChainHostOptions<M>) {
    this.changeWaiters = new ChangeWaiters(options.clock);
    const { link } = options;
    this.forwarded = new ForwardedRequests(
      (peer, frame) => link.send(peer, frame),
      options.clock,
      link.connectionLost === undefined ? undefined : (peer) => link.connectionLost?.(peer) === true,
    );
    this.loaded = new Promise((resolve) => {
      this.loadedResolve = resolve;
    });
  }

  get self(): NodeId {
    return this.options.self;
  }

  /** True once `close` was called: it opens no replica and serves nothing any more. */
  get isClosed(): boolean {
    return this.closed;
  }

  /** Starts following the definitions and serving the chains channel. */
  start(): void {
    const { link } = this.options;
    link.onMessage((from, payload) => this.receive(from, payload));
    link.onPeerLost((peer) => this.peerLost(peer));
    this.following = this.options.definitions.follow({
      onReset: (definitions) => this.reset(definitions),
      onChange: (name, definition) => this.changed(name, definition),
      onError: (error) => this.fail(error),
    });
  }

  /** Calls `listener` if the host cannot go on (it stopped following the definitions). */
  onFailure(listener: (error: Error) => void): void {
    this.failureListener = listener;
  }

  private fail(error: Error): void {
    this.options.logger?.error({ err: error }, 'chain definitions no longer followed');
    this.failureListener?.(error);
  }

  /** Stops following, fails forwarded requests in flight, closes every replica (files kept). */
  async close(): Promise<void> {
    this.closed = true;
    this.following?.stop();
    this.forwarded.close();
    this.wakeWaiters();
    await Promise.all(
      [...this.held.entries()].map(([name, chain]) =>
        this.enqueue(name, chain, () => this.closeReplica(name, chain, false)),
      ),
    );
  }

  /** Who answers the requests other nodes forward here. */
  onRequest(handler: ForwardedRequestHandler): void {
    this.requestHandler = handler;
  }

  definition(name: string): ChainDefinition | undefined {
    return this.definitionsByName.get(name);
  }

  definitions(): ChainDefinition[] {
    return [...this.definitionsByName.values()];
  }

  /** This node's open replica of `name`, if it holds one. */
  replica(name: string): HostedReplica<M> | undefined {
    return this.held.get(name)?.replica;
  }

  /** The chains this node holds a replica of, with the replica (open ones only). */
  replicas(): [string, HostedReplica<M>][] {
    const open: [string, HostedReplica<M>][] = [];
    for (const [name, chain] of this.held) if (chain.replica !== undefined) open.push([name, chain.replica]);
    return open;
  }

  /** Sends `request` to `peer`'s host; rejects with a `PeerRequestError` (`CHAIN_FORWARD_FAILED`) when no answer came. */
  forward(peer: NodeId, request: HostRequest, timeoutMs: number): Promise<HostAnswer> {
    return this.forwarded.request(peer, request, timeoutMs);
  }

  /**
   * Resolves at the next change of any definition (or a replica opening), or after `waitMs`:
   * callers look again at what they wait for.
   */
  nextChange(waitMs: number): Promise<void> {
    if (this.closed) return Promise.resolve();
    return this.changeWaiters.next(waitMs);
  }

  private wakeWaiters(): void {
    this.changeWaiters.wakeAll();
  }

  private reset(definitions: ReadonlyMap<string, ChainDefinition>): void {
    const gone = [...this.definitionsByName.keys()].filter((name) => !definitions.has(name));
    for (const name of gone) this.changed(name, undefined);
    for (const [, definition] of definitions) this.changed(definition.name, definition);
    this.loadedResolve?.();
    this.loadedResolve = undefined;
  }

  private changed(name: string, definition: ChainDefinition | undefined): void {
    if (this.closed) return;
    if (definition === undefined) this.definitionsByName.delete(name);
    else this.definitionsByName.set(name, definition);
    const member = definition !== undefined && this.isInSet(definition);
    let chain = this.held.get(name);
    if (chain === undefined && member) {
      chain = { replica: undefined, work: Promise.resolve() };
      this.held.set(name, chain);
    }
    if (chain !== undefined) {
      const held = chain;
      void this.enqueue(name, held, () => this.reconcile(name, held));
    }
    this.wakeWaiters();
  }

  private isInSet(definition: ChainDefinition): boolean {
    const self = this.options.self;
    return definition.replicas.includes(self) || (definition.learners ?? []).includes(self);
  }

  private enqueue(name: string, chain: HeldChain<M>, step: () => Promise<void>): Promise<void> {
    chain.work = chain.work.then(step).catch((error: unknown) => {
      this.options.logger?.warn({ chain: name, err: error }, 'chain replica step failed');
    });
    return chain.work;
  }

  /** Brings the replica of `name` in line with the latest definition. */
  private async reconcile(name: string, chain: HeldChain<M>): Promise<void> {
    if (this.closed) return;
    const definition = this.definitionsByName.get(name);
    const member = definition !== undefined && this.isInSet(definition);
    if (!member) {
      await this.closeReplica(name, chain, true);
      return;
    }
    if (chain.replica === undefined) {
      if (this.occupied >= this.maxChains) {
        this.refuse(name);
        return;
      }
      this.refused.delete(name);
      this.occupied += 1;
      try {
        chain.replica = await this.openReplica(definition);
      } catch (error) {
        this.occupied -= 1;
        this.counters.openFailures += 1;
        throw error;
      }
      this.wakeWaiters();
      // A change that arrived while it opened is applied by the step it queued.
      return;
    }
    chain.replica.updateDefinition(definition);
  }

  private async openReplica(definition: ChainDefinition): Promise<HostedReplica<M>> {
    const { codec, link } = this.options;
    const replica = await this.options.openReplica({
      definition,
      directory: this.directoryOf(definition.name),
      send: (peer, message) => link.send(peer, encodeReplicaFrame(codec.encode(message))),
    });
    replica.onLeaderSuspected((leader, epoch) => this.leaderSuspected(definition.name, leader, epoch));
    return replica;
  }

  private async closeReplica(name: string, chain: HeldChain<M>, remove: boolean): Promise<void> {
    const replica = chain.replica;
    chain.replica = undefined;
    this.refused.delete(name);
    if (replica !== undefined) {
      await replica.close();
      this.occupied -= 1;
      this.retryRefused();
    }
    if (!remove) return;
    await this.options.removeDirectory(this.directoryOf(name));
    // Put back in the set meanwhile: the step that change queued opens it afresh.
    const definition = this.definitionsByName.get(name);
    if (definition === undefined || !this.isInSet(definition)) this.held.delete(name);
  }

  private get maxChains(): number {
    return this.options.maxChains ?? DEFAULT_MAX_CHAINS_PER_NODE;
  }

  /** Chains naming this node that it holds no replica of, refused past its chain limit; by name. */
  refusedChains(): string[] {
    return [...this.refused].sort();
  }

  private refuse(name: string): void {
    if (this.refused.has(name)) return;
    this.refused.add(name);
    const error = new ChainLimitError(
      CHAINS_PER_NODE_LIMIT,
      `node ${this.options.self} holds ${this.maxChains} chains, its most (${CHAINS_PER_NODE_LIMIT}): chain ${name} names it but is not opened here`,
      { name, node: this.options.self, maxChains: this.maxChains },
    );
    this.options.logger?.warn({ chain: name, err: error }, 'chain replica refused: chain limit reached');
  }

  /** A slot came free: the refused chains try again, in name order (the first takes it). */
  private retryRefused(): void {
    if (this.closed) return;
    for (const name of this.refusedChains()) {
      const chain = this.held.get(name);
      if (chain !== undefined) void this.enqueue(name, chain, () => this.reconcile(name, chain));
    }
  }

  private directoryOf(name: string): string {
    // Names are validated by the control plane (one key segment); this keeps a bad one inside.
    return `${this.options.chainsDirectory}/${encodeURIComponent(name)}`;
  }

  /**
   * Proposes the next epoch once per suspected epoch, at most once per interval per chain; a
   * proposal that could not be committed (control plane without a leader or unreachable, no
   * healthy replica yet) is tried again, sooner at first (`FAILOVER_PROPOSAL_FIRST_RETRY_MS`,
   * doubling to the interval), while the definition still shows that epoch.
   */
  private leaderSuspected(name: string, leader: NodeId, epoch: number, failures = 0): void {
    const definition = this.definitionsByName.get(name);
    if (this.closed || definition === undefined || definition.epoch !== epoch) return;
    const now = this.options.clock.nowMs();
    const last = this.lastProposal.get(name);
    if (last !== undefined && (last.epoch >= epoch || now - last.atMs < FAILOVER_PROPOSAL_MIN_INTERVAL_MS))
      return;
    this.lastProposal.set(name, { epoch, atMs: now });
    this.options.proposeFailover(definition, leader).catch((error: unknown) => {
      this.options.logger?.info({ chain: name, epoch, err: error }, 'failover proposal not committed');
      const retryMs = Math.min(
        FAILOVER_PROPOSAL_MIN_INTERVAL_MS,
        FAILOVER_PROPOSAL_FIRST_RETRY_MS * 2 ** failures,
      );
      this.options.clock.setTimer(retryMs, () => {
        if (this.lastProposal.get(name)?.epoch !== epoch) return;
        this.lastProposal.delete(name);
        this.leaderSuspected(name, leader, epoch, failures + 1);
      });
    });
  }

  private receive(from: NodeId, payload: Uint8Array): void {
    if (this.closed) return;
    let frame: ReturnType<typeof decodeHostFrame>;
    let message: M | undefined;
    try {
      frame = decodeHostFrame(payload);
      if (frame.kind === 'replica') message = this.options.codec.decode(frame.body);
    } catch (error) {
      this.counters.decodeFailures += 1;
      this.options.logger?.warn({ from, err: error }, 'undecodable chains channel message dropped');
      return;
    }
    if (frame.kind === 'replica' && message !== undefined) {
      // A chain not open here (yet, or any more) drops it: the protocol resends.
      this.held.get(message.chain)?.replica?.receive(from, message);
    } else if (frame.kind === 'request') this.serve(from, frame.id, frame.request);
    else if (frame.kind === 'answer') this.forwarded.settle(from, frame.id, frame.answer);
  }

  private serve(from: NodeId, id: number, request: HostRequest): void {
    const answer = (reply: HostAnswer): void => {
      this.options.link.send(from, encodeAnswerFrame(id, reply));
    };
    const handler = this.requestHandler;
    if (handler === undefined || this.servedInFlight >= MAX_SERVED_REQUESTS_IN_FLIGHT) {
      answer(
        errorAnswer(new ChainOverloadedError(request.chain, `node ${this.self} serves no more requests now`)),
      );
      return;
    }
    this.servedInFlight += 1;
    handler(from, request)
      .then(answer, (error: unknown) => answer(errorAnswer(error)))
      .finally(() => {
        this.servedInFlight -= 1;
      });
  }

  private peerLost(peer: NodeId): void {
    this.forwarded.peerLost(peer);
    for (const [, chain] of this.held) chain.replica?.peerLost(peer);
  }
}

/** The error a forwarded request is answered with: its code and message cross the wire. */
export function errorAnswer(error: unknown): HostAnswer {
  const code =
    typeof (error as { code?: unknown })?.code === 'string' ? (error as { code: string }).code : 'INTERNAL';
  return { type: 'error', code, message: error instanceof Error ? error.message : String(error) };
}
