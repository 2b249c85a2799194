import type { NodeId, Random } from '../../lib/index.js';
import {
  assert,
  describeValue,
  Hash64Result,
  hash64Into,
  InputProblems,
  ValidationError,
} from '../../lib/index.js';
import { highHalf, lowHalf } from '../causal.js';
import { type DaemonEvent, eventError, isDaemonEvent } from '../daemon.js';
import { GroupClosedError, ReplicaUnavailableError } from '../errors.js';
import { type ChainPosition, type DaemonHostConfig, hostConfigProblems } from '../host.js';
import { type DaemonIdentity, GROUP_SEED_BYTES, memberIdentity } from '../identity.js';
import { MAX_GROUP_MEMBERS } from '../limits.js';
import type { Disposable } from '../registry.js';
import type { DaemonRuntime } from '../runtime.js';
import { checkNodeIdArgument, defaultPlacement, groupTargetProblems } from './common.js';

/**
 * How a replica group picks the replica for an event:
 * - `round-robin`: each replica in turn;
 * - `consistent-hash`: by the event's key (rendezvous hashing, so scaling moves only the
 *   keys of the replicas that came or went);
 * - `power-of-two`: two distinct replicas drawn at random, the less saturated one wins.
 */
export type RoutingStrategy = 'round-robin' | 'consistent-hash' | 'power-of-two';

export interface ReplicaGroupConfig {
  readonly name?: string;
  readonly replicaCount: number;
  /** 32 bytes; replica i's identity derives from it and i. */
  readonly groupSeed: Uint8Array;
  readonly strategy?: RoutingStrategy;
  /** Node of replica i; default node i + 1. A placement that returns no `NodeId` is a `ValidationError` at spawn or scale. */
  readonly placement?: (index: number) => NodeId;
  readonly hostConfig?: DaemonHostConfig;
  /** Draws for power-of-two choices. */
  readonly random: Random;
  /** Re-spawn a replica automatically when its daemon crashes (default true). */
  readonly respawnOnCrash?: boolean;
}

export interface ReplicaInfo {
  readonly index: number;
  readonly nodeId: NodeId;
  readonly originHash: bigint;
  readonly respawns: number;
}

/** Returns every problem with a replica group configuration (empty when valid); safe on any value. */
export function replicaGroupConfigProblems(config: ReplicaGroupConfig): string[] {
  const problems = new InputProblems();
  if (!problems.record('config', config)) return problems.list;
  problems.integer('replicaCount', config.replicaCount, 1, MAX_GROUP_MEMBERS);
  problems.bytes('groupSeed', config.groupSeed, GROUP_SEED_BYTES);
  if (config.name !== undefined) problems.text('name', config.name);
  if (config.strategy !== undefined) problems.oneOf('strategy', config.strategy, ROUTING_STRATEGIES);
  if (config.placement !== undefined) problems.func('placement', config.placement);
  problems.methods('random', config.random, ['nextInt']);
  if (config.respawnOnCrash !== undefined) problems.boolean('respawnOnCrash', config.respawnOnCrash);
  if (config.hostConfig !== undefined && problems.record('hostConfig', config.hostConfig)) {
    problems.nested('hostConfig', hostConfigProblems(config.hostConfig));
  }
  return problems.list;
}

const ROUTING_STRATEGIES: readonly RoutingStrategy[] = ['round-robin', 'consistent-hash', 'power-of-two'];

function routeError(key: unknown, strategy: unknown): ValidationError {
  const problems = new InputProblems();
  if (key !== undefined && typeof key !== 'string') {
    problems.add(`key must be a string when given, got ${describeValue(key)}`);
  }
  problems.oneOf('strategy', strategy, ROUTING_STRATEGIES);
  return new ValidationError('route', problems.list);
}

interface Replica {
  readonly index: number;
  readonly nodeId: NodeId;
  readonly identity: DaemonIdentity;
  respawns: number;
}

const keyEncoder = new TextEncoder();

/**
 * N interchangeable replicas of one daemon kind with deterministic identities (seed and
 * index). A failed replica is re-spawned under the same identity, continuing its chain;
 * replicas share no state, so a re-spawned replica starts empty.
 */
export class ReplicaGroup {
  readonly name: string;
  private readonly replicas: Replica[] = [];
  private readonly seed: Uint8Array;
  private readonly hostConfig: DaemonHostConfig | undefined;
  private readonly random: Random;
  private readonly placement: (index: number) => NodeId;
  private readonly strategy: RoutingStrategy;
  private readonly lifecycle: Disposable | undefined;
  private readonly scratch = new Hash64Result();
  private cursor = 0;
  private closed = false;

  private constructor(
    private readonly runtime: DaemonRuntime,
    readonly kind: string,
    config: ReplicaGroupConfig,
  ) {
    this.name = config.name ?? `replicas-${kind}`;
    this.seed = config.groupSeed;
    this.hostConfig = config.hostConfig;
    this.random = config.random;
    this.placement = config.placement ?? defaultPlacement;
    this.strategy = config.strategy ?? 'round-robin';
    if (config.respawnOnCrash ?? true) {
      this.lifecycle = runtime.onLifecycle((event) => {
        if (event.type !== 'crashed' || this.closed) return;
        const replica = this.replicas.find((candidate) => candidate.identity.originHash === event.origin);
        if (replica !== undefined) this.respawn(replica);
      });
    }
  }

  static spawn(runtime: DaemonRuntime, kind: string, config: ReplicaGroupConfig): ReplicaGroup {
    const problems = new InputProblems();
    groupTargetProblems(problems, runtime, kind);
    problems.addAll(replicaGroupConfigProblems(config));
    problems.throwIfAny('replica group');
    runtime.factoryFor(kind);
    const group = new ReplicaGroup(runtime, kind, config);
    try {
      group.scaleTo(config.replicaCount);
    } catch (error) {
      group.close();
      throw error;
    }
    return group;
  }

  get replicaCount(): number {
    return this.replicas.length;
  }

  listReplicas(): ReplicaInfo[] {
    return this.replicas.map((replica) => ({
      index: replica.index,
      nodeId: replica.nodeId,
      originHash: replica.identity.originHash,
      respawns: replica.respawns,
    }));
  }

  /** The origin that should take an event with this key under `strategy`. */
  route(key?: string, strategy: RoutingStrategy = this.strategy): bigint {
    this.requireOpen();
    if ((key !== undefined && typeof key !== 'string') || !ROUTING_STRATEGIES.includes(strategy)) {
      throw routeError(key, strategy);
    }
    const count = this.replicas.length;
    if (count === 0) throw new ReplicaUnavailableError(`group '${this.name}' has no replicas`);
    switch (strategy) {
      case 'round-robin': {
        const replica = this.replicas[this.cursor % count]!;
        this.cursor = (this.cursor + 1) % count;
        return replica.identity.originHash;
      }
      case 'consistent-hash':
        return this.rendezvous(key ?? '');
      case 'power-of-two':
        return this.powerOfTwo();
    }
  }

  /** Routes and delivers; consistent hashing uses the event's key. */
  deliver(event: DaemonEvent, strategy: RoutingStrategy = this.strategy): number | Promise<number> {
    if (!isDaemonEvent(event)) throw eventError(event);
    return this.runtime.deliver(this.route(event.key, strategy), event);
  }

  /** Grows or shrinks to `count` replicas; removal takes the highest indices, drained first. */
  scaleTo(count: number): void {
    this.requireOpen();
    if (!Number.isInteger(count) || count < 0 || count > MAX_GROUP_MEMBERS) {
      throw new ValidationError('replica count', [`must be in [0, ${MAX_GROUP_MEMBERS}], got ${count}`]);
    }
    while (this.replicas.length < count) {
      const index = this.replicas.length;
      const replica: Replica = {
        index,
        nodeId: this.placeReplica(index),
        identity: memberIdentity(this.seed, index),
        respawns: 0,
      };
      this.runtime.spawn(this.kind, replica.identity, this.options(undefined));
      this.replicas.push(replica);
    }
    while (this.replicas.length > count) {
      const replica = this.replicas.pop()!;
      const origin = replica.identity.originHash;
      if (!this.runtime.has(origin)) continue;
      const daemon = this.runtime.host(origin).daemon;
      daemon.onControl({ type: 'drain-start' });
      daemon.onControl({ type: 'drain-finish' });
      this.runtime.unregister(origin);
    }
    if (this.replicas.length > 0) this.cursor %= this.replicas.length;
  }

  /** Re-spawns replica `index` under the same identity; returns its (unchanged) origin. */
  replaceReplica(index: number): bigint {
    this.requireOpen();
    const replica = this.replicas[index];
    if (replica === undefined)
      throw new ReplicaUnavailableError(`group '${this.name}' has no replica ${index}`);
    this.respawn(replica);
    return replica.identity.originHash;
  }

  /** Re-spawns every replica placed on `nodeId`; returns their indices. */
  onNodeFailure(nodeId: NodeId): number[] {
    checkNodeIdArgument('node failure', nodeId);
    this.requireOpen();
    const affected = this.replicas.filter((replica) => replica.nodeId === nodeId);
    for (const replica of affected) this.respawn(replica);
    return affected.map((replica) => replica.index);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.lifecycle?.dispose();
    for (const replica of this.replicas) {
      if (this.runtime.has(replica.identity.originHash)) this.runtime.unregister(replica.identity.originHash);
    }
  }

  private placeReplica(index: number): NodeId {
    const nodeId = this.placement(index);
    const problems = new InputProblems();
    problems.nodeId(`placement(${index})`, nodeId);
    problems.throwIfAny(`replica group '${this.name}'`);
    return nodeId;
  }

  private respawn(replica: Replica): void {
    const origin = replica.identity.originHash;
    let chain: ChainPosition | undefined;
    if (this.runtime.has(origin)) {
      chain = this.runtime.host(origin).chainPosition;
      this.runtime.unregister(origin);
    }
    this.runtime.spawn(this.kind, replica.identity, this.options(chain));
    replica.respawns++;
  }

  private rendezvous(key: string): bigint {
    const bytes = keyEncoder.encode(key);
    let bestHigh = -1;
    let bestLow = -1;
    let best: Replica | undefined;
    for (const replica of this.replicas) {
      const origin = replica.identity.originHash;
      hash64Into(bytes, 0, bytes.length, highHalf(origin), lowHalf(origin), this.scratch);
      const { high, low } = this.scratch;
      if (high > bestHigh || (high === bestHigh && low > bestLow)) {
        bestHigh = high;
        bestLow = low;
        best = replica;
      }
    }
    assert(best !== undefined, 'rendezvous over an empty group');
    return best.identity.originHash;
  }

  private powerOfTwo(): bigint {
    const count = this.replicas.length;
    const first = this.random.nextInt(count);
    if (count === 1) return this.replicas[first]!.identity.originHash;
    let second = this.random.nextInt(count - 1);
    if (second >= first) second++;
    const a = this.replicas[first]!;
    const b = this.replicas[second]!;
    return this.saturationOf(b) < this.saturationOf(a) ? b.identity.originHash : a.identity.originHash;
  }

  private saturationOf(replica: Replica): number {
    const origin = replica.identity.originHash;
    if (!this.runtime.has(origin)) return Number.POSITIVE_INFINITY;
    const host = this.runtime.host(origin);
    if (host.crashed) return Number.POSITIVE_INFINITY;
    const value = host.daemon.saturation();
    return Number.isFinite(value) ? Math.min(1, Math.max(0, value)) : 1;
  }

  private options(chain: ChainPosition | undefined) {
    return {
      ...(this.hostConfig === undefined ? {} : { hostConfig: this.hostConfig }),
      ...(chain === undefined ? {} : { chainPosition: chain }),
    };
  }

  private requireOpen(): void {
    if (this.closed) throw new GroupClosedError(this.name);
  }
}
