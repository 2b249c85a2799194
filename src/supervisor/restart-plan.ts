import type { Random } from '../lib/index.js';
import type { CompiledSupervisor } from './compile.js';
import type { BackoffPolicy, RestartPolicy } from './spec.js';

/** Why a child ended: a crash (rejected lifetime or failed start) or a normal exit. */
export type ExitKind = 'crash' | 'normal';

/** OTP's rule: permanent always, transient only after a crash, temporary never. */
export function shouldRestart(policy: RestartPolicy, exit: ExitKind): boolean {
  switch (policy.type) {
    case 'permanent':
      return true;
    case 'transient':
      return exit === 'crash';
    case 'temporary':
      return false;
  }
}

/**
 * The children a restart of `failed` touches, in start order: stop them in reverse, start them
 * in this order. one-for-one touches only `failed`, rest-for-one also every child after it in
 * start order, one-for-all every child. With `restartDependents`, everything that depends on a
 * touched child (directly or not) is touched too.
 */
export function restartSet(compiled: CompiledSupervisor, failed: string): string[] {
  const touched = new Set<string>([failed]);
  const failedPosition = compiled.startOrder.indexOf(failed);
  compiled.startOrder.forEach((name, position) => {
    if (compiled.strategy === 'one-for-all') touched.add(name);
    if (compiled.strategy === 'rest-for-one' && position > failedPosition) touched.add(name);
  });
  if (compiled.restartDependents) {
    const pending = [...touched];
    while (pending.length > 0) {
      const name = pending.pop() as string;
      for (const dependent of compiled.childrenByName.get(name)?.dependents ?? []) {
        if (!touched.has(dependent)) {
          touched.add(dependent);
          pending.push(dependent);
        }
      }
    }
  }
  return compiled.startOrder.filter((name) => touched.has(name));
}

/** Every child that depends on `name`, directly or not, in start order. */
export function transitiveDependents(compiled: CompiledSupervisor, name: string): string[] {
  const found = new Set<string>();
  const pending = [name];
  while (pending.length > 0) {
    const current = pending.pop() as string;
    for (const dependent of compiled.childrenByName.get(current)?.dependents ?? []) {
      if (!found.has(dependent)) {
        found.add(dependent);
        pending.push(dependent);
      }
    }
  }
  return compiled.startOrder.filter((child) => found.has(child));
}

export interface RestartDecision {
  readonly admitted: boolean;
  /** Restart times still inside the window, including this one when admitted. */
  readonly restartTimesMs: readonly number[];
  /** 1 for the first restart in the window, 2 for the second, ... (drives the backoff). */
  readonly attempt: number;
}

/**
 * Sliding-window restart intensity: a restart is admitted while fewer than `maxRestarts`
 * restarts happened in the last `periodMs`. The kept list never exceeds `maxRestarts` entries.
 */
export function admitRestart(
  policy: RestartPolicy,
  restartTimesMs: readonly number[],
  nowMs: number,
): RestartDecision {
  const recent = restartTimesMs.filter((timeMs) => nowMs - timeMs < policy.periodMs);
  if (recent.length >= policy.maxRestarts)
    return { admitted: false, restartTimesMs: recent, attempt: recent.length };
  const kept = [...recent, nowMs];
  return { admitted: true, restartTimesMs: kept, attempt: kept.length };
}

/**
 * Exponential backoff with jitter: `initialMs * multiplier^(attempt-1)`, capped at `maxMs`,
 * then moved by up to `jitterRatio` of itself either way (never below 0 or above `maxMs`).
 */
export function backoffDelayMs(backoff: BackoffPolicy, attempt: number, random: Random): number {
  const exponent = Math.max(0, attempt - 1);
  const base = Math.min(backoff.maxMs, backoff.initialMs * backoff.multiplier ** exponent);
  if (base === 0 || backoff.jitterRatio === 0) return base;
  const offset = base * backoff.jitterRatio * (2 * random.nextFloat() - 1);
  return Math.min(backoff.maxMs, Math.max(0, Math.round(base + offset)));
}
