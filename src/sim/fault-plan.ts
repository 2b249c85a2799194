import { type Random, ValidationError } from '../lib/index.js';

/**
 * The faults the simulator can inject. Each is a named knob: enabled or not for a run, with
 * an intensity drawn from the seed, and every injection counted. Only faults the design
 * claims to survive are here: no byzantine messages, no corruption of fsynced data, no clock
 * drift beyond the configured bound (the cluster runs ReadIndex reads, which do not depend on
 * clocks; lease reads would not survive process pauses and stay off).
 */
export const FAULT_NAMES = [
  'delay',
  'drop',
  'duplicate',
  'reorder',
  'partition',
  'asymmetric-partition',
  'crash',
  'leader-crash',
  'slow-fsync',
  'clock-drift',
  'pause',
] as const;

export type FaultName = (typeof FAULT_NAMES)[number];

/** Largest relative deviation of a node's tick rate from nominal (the configured drift bound). */
export const MAX_TICK_DRIFT_RATIO = 0.1;
/** Network delay every message sees, in simulated microseconds. */
export const BASE_NETWORK_DELAY_MIN_US = 100;
export const BASE_NETWORK_DELAY_MAX_US = 1_000;
/** Upper bound of the extra random delay of the `delay` knob. */
const NETWORK_JITTER_MAX_US = 3_000;
/** Upper bound of a long-tail delay (a message stuck in a queue somewhere). */
export const NETWORK_LONG_TAIL_MAX_US = 150_000;
/** Upper bound of the extra delay the `reorder` knob adds to a chosen message. */
export const REORDER_EXTRA_DELAY_MAX_US = 20_000;
/** A normal fsync takes this long. */
export const FSYNC_MIN_US = 50;
export const FSYNC_MAX_US = 800;
/** Upper bound of a slow fsync. */
export const SLOW_FSYNC_MAX_US = 40_000;
/** How long a crashed node stays down, and a paused node stays paused. */
export const CRASH_DOWNTIME_MIN_US = 20_000;
export const CRASH_DOWNTIME_MAX_US = 600_000;
export const PAUSE_MIN_US = 20_000;
export const PAUSE_MAX_US = 400_000;
/** How long a partition lasts before it heals. */
export const PARTITION_MIN_US = 50_000;
export const PARTITION_MAX_US = 1_000_000;
/** Share of leader isolations that strike at the moment of election, before it sends anything. */
export const LEADER_ISOLATE_AT_ONCE_PROBABILITY = 0.5;
/** Half of the other leader isolations strike within this long of the election. */
export const LEADER_ISOLATE_SOON_MAX_US = 8_000;
/** How long a newly elected leader stays cut off when the churn fault isolates it. */
export const LEADER_ISOLATION_MIN_US = 30_000;
export const LEADER_ISOLATION_MAX_US = 400_000;
/** Gap between two chaos actions (partitions, crashes, pauses); each seed draws its own maximum. */
export const CHAOS_INTERVAL_MIN_US = 50_000;
const CHAOS_INTERVAL_MAX_US = 800_000;
/** A new leader is crashed within this long after it is first seen, by the `leader-crash` knob. */
export const LEADER_CRASH_DELAY_MAX_US = 40_000;

/** Share of seeds that run with heavy leader churn. */
const CHURN_SEED_PROBABILITY = 0.3;

/** The knob settings of one run, all drawn from the seed. */
export interface FaultPlan {
  readonly enabled: ReadonlySet<FaultName>;
  /** A churn seed: leaders are cut off often (see CHURN_SEED_PROBABILITY). */
  readonly churn: boolean;
  readonly jitterMaxUs: number;
  readonly longTailProbability: number;
  readonly dropProbability: number;
  readonly duplicateProbability: number;
  readonly reorderProbability: number;
  readonly slowFsyncProbability: number;
  /** Per node tick-rate multipliers, each in [1 - MAX_TICK_DRIFT_RATIO, 1 + MAX_TICK_DRIFT_RATIO]. */
  readonly tickRateByNode: readonly number[];
  readonly chaosIntervalMaxUs: number;
  /** Probability that a newly seen leader is crashed soon after (figure-8 style churn). */
  readonly leaderCrashProbability: number;
  /** Probability that a newly seen leader is cut off on its own soon after (figure-8 style churn). */
  readonly leaderIsolateProbability: number;
  /** Probability, per append carrying a leader's new entries, that the leader is cut off right after it. */
  readonly partialBroadcastProbability: number;
}

/** Parses a comma list of knob names; every unknown name is reported. */
export function parseFaultList(list: string): FaultName[] {
  const names = list
    .split(',')
    .map((name) => name.trim())
    .filter((name) => name !== '');
  if (names.length === 1 && names[0] === 'all') return [...FAULT_NAMES];
  if (names.length === 1 && names[0] === 'none') return [];
  const unknown = names.filter((name) => !(FAULT_NAMES as readonly string[]).includes(name));
  if (unknown.length > 0) {
    throw new ValidationError(
      '--faults',
      unknown.map((name) => `unknown fault "${name}" (known: ${FAULT_NAMES.join(', ')}, all, none)`),
    );
  }
  return names as FaultName[];
}

/** Draws each enabled knob's intensity from `random`; a disabled knob is zero. */
export function deriveFaultPlan(
  random: Random,
  enabledNames: readonly FaultName[],
  nodeCount: number,
): FaultPlan {
  const enabled = new Set(enabledNames);
  const level = (name: FaultName, min: number, max: number): number =>
    enabled.has(name) ? min + random.nextFloat() * (max - min) : 0;
  // Some seeds are churn seeds: leaders are cut off so often that uncommitted suffixes pile
  // up and diverge (figure 8); the others leave the cluster more time to make progress.
  const churn = enabled.has('partition') && random.chance(CHURN_SEED_PROBABILITY);
  const tickRateByNode: number[] = [];
  for (let node = 0; node < nodeCount; node++) {
    tickRateByNode.push(
      enabled.has('clock-drift') ? 1 + (random.nextFloat() * 2 - 1) * MAX_TICK_DRIFT_RATIO : 1,
    );
  }
  return {
    enabled,
    churn,
    jitterMaxUs: enabled.has('delay') ? random.nextIntBetween(200, NETWORK_JITTER_MAX_US) : 0,
    longTailProbability: level('delay', 0.001, 0.02),
    dropProbability: level('drop', 0.005, 0.15),
    duplicateProbability: level('duplicate', 0.005, 0.1),
    reorderProbability: level('reorder', 0.01, 0.2),
    slowFsyncProbability: level('slow-fsync', 0.01, 0.15),
    tickRateByNode,
    chaosIntervalMaxUs: random.nextIntBetween(CHAOS_INTERVAL_MIN_US * 4, CHAOS_INTERVAL_MAX_US),
    leaderCrashProbability: level('leader-crash', 0.1, 0.5),
    leaderIsolateProbability: churn ? level('partition', 0.5, 1) : level('partition', 0.1, 0.6),
    partialBroadcastProbability: churn ? level('partition', 0.2, 0.5) : level('partition', 0.01, 0.1),
  };
}

/** Counts of every fault injected in a run, by knob. */
export type FaultCounts = Record<FaultName, number>;

export function emptyFaultCounts(): FaultCounts {
  const counts = {} as FaultCounts;
  for (const name of FAULT_NAMES) counts[name] = 0;
  return counts;
}
