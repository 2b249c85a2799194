import type { Clock } from '../lib/index.js';
import { type ChildRuntime, ChildStopRequest, type Outcome } from './child-runtime.js';
import type { CompiledStopAction } from './compile.js';
import type { LifecycleAction } from './lifecycle.js';
import type { NameRegistry } from './name-registry.js';
import type { ResumeStateStore } from './resume-store.js';
import { describeError, raceWithTimeout } from './timing.js';

/** What stopping a child needs from its supervisor. */
export interface StopContext {
  readonly clock: Clock;
  readonly registry: NameRegistry;
  readonly resumeStore: ResumeStateStore;
  resumeKey(child: string): string;
  emit(action: LifecycleAction, child: string, reason?: string): void;
}

/**
 * Runs a child's stop actions in order: drain (with its deadline, persisting resume state when
 * required), release the name lease, abort the signal and wait up to the shutdown timeout. The
 * lease and the signal are let go at the end even when the actions leave them out.
 */
export async function stopChildRuntime(
  runtime: ChildRuntime,
  reason: string,
  context: StopContext,
): Promise<void> {
  runtime.status = 'stopping';
  for (const action of runtime.spec.stopActions) await runStopAction(runtime, action, reason, context);
  releaseChildLease(runtime, reason, context);
  runtime.controller?.abort(new ChildStopRequest(reason));
  runtime.status = 'stopped';
}

export function releaseChildLease(runtime: ChildRuntime, reason: string, context: StopContext): void {
  const lease = runtime.lease;
  runtime.lease = undefined;
  if (lease !== undefined && context.registry.release(lease)) {
    context.emit('release-name-lease', runtime.spec.name, `${lease.name}: ${reason}`);
  }
}

async function runStopAction(
  runtime: ChildRuntime,
  action: CompiledStopAction,
  reason: string,
  context: StopContext,
): Promise<void> {
  switch (action.kind) {
    case 'drain':
      await drain(runtime, action.requireResumeState, action.deadlineMs, context);
      return;
    case 'release-name-lease':
      releaseChildLease(runtime, reason, context);
      return;
    case 'stop-child': {
      const name = runtime.spec.name;
      context.emit('stop-child', name, reason);
      runtime.controller?.abort(new ChildStopRequest(reason));
      const settled = runtime.settled ?? Promise.resolve<Outcome>({ kind: 'normal' });
      const result = await raceWithTimeout(context.clock, settled, runtime.spec.shutdownTimeoutMs);
      if (result.timedOut) {
        context.emit(
          'force-stop',
          name,
          `did not exit within ${runtime.spec.shutdownTimeoutMs} ms of its abort signal; abandoned`,
        );
      }
      return;
    }
  }
}

async function drain(
  runtime: ChildRuntime,
  requireResumeState: boolean,
  deadlineMs: number,
  context: StopContext,
): Promise<void> {
  const name = runtime.spec.name;
  context.emit('drain', name, requireResumeState ? 'resume state required' : undefined);
  const handler = runtime.drainHandler;
  if (handler === undefined) {
    if (requireResumeState) context.emit('drain-failed', name, 'the child registered no drain handler');
    return;
  }
  const deadline = new AbortController();
  const work = (async () => {
    const outcome = await handler(deadline.signal);
    if (!requireResumeState) return;
    if (outcome?.resumeState === undefined) throw new Error('the drain returned no resume state');
    // Persisted before the child is stopped, so a stop never loses the state it must resume from.
    await context.resumeStore.save(context.resumeKey(name), outcome.resumeState);
  })();
  try {
    const result = await raceWithTimeout(context.clock, work, deadlineMs);
    if (result.timedOut) {
      deadline.abort(new ChildStopRequest('drain deadline passed'));
      work.catch(() => {});
      context.emit('drain-failed', name, `did not finish within its ${deadlineMs} ms deadline`);
      return;
    }
    if (requireResumeState) context.emit('resume-state-persisted', name);
  } catch (error) {
    context.emit('drain-failed', name, describeError(error));
  }
}
