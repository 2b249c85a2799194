/**
 * One `process` call of a kind's daemon, guarded so that whatever the kind does, the caller
 * gets checked outputs or a typed error and the node keeps running:
 *
 * - an event above `maxEventBytes`: `DAEMON_EVENT_TOO_LARGE`, `process` is not called;
 * - `process` throws, its promise rejects, or it answers something other than an array of
 *   `Uint8Array`s: `DAEMON_PROCESS_FAILED` (`details.crashed` unless the kind threw a typed
 *   `MeshError`: that is its refusal of the event, not a crash);
 * - more than `maxOutputsPerEvent` outputs, one above `maxOutputBytes`, or more than
 *   `maxOutputBytesPerEvent` together: `DAEMON_PROCESS_FAILED` naming the limit;
 * - its promise does not settle within `deadlineMs` (on the given clock):
 *   `DAEMON_PROCESS_TIMEOUT`; whatever it does later is ignored.
 *
 * A synchronous `process` that never returns (an endless loop) cannot be stopped from inside
 * the process that runs it: the deadline bounds asynchronous work only.
 *
 * The guard does not undo anything: `DaemonMember` does, by rebuilding the daemon.
 */
import type { DaemonEvent, MeshDaemon } from '../compute/index.js';
import { type Clock, describeValue, isMeshError, type MeshError } from '../lib/index.js';
import { DaemonEventTooLargeError, DaemonProcessFailedError } from './cluster-errors.js';
import { MAX_DAEMON_EVENT_BYTES } from './cluster-limits.js';
import { DaemonProcessTimeoutError } from './errors.js';
import {
  DAEMON_PROCESS_DEADLINE_MS,
  MAX_DAEMON_OUTPUT_BYTES,
  MAX_DAEMON_OUTPUT_BYTES_PER_EVENT,
  MAX_DAEMON_OUTPUTS_PER_EVENT,
} from './limits.js';

export interface GuardLimits {
  readonly deadlineMs: number;
  readonly maxEventBytes: number;
  readonly maxOutputsPerEvent: number;
  readonly maxOutputBytes: number;
  readonly maxOutputBytesPerEvent: number;
}

export const DEFAULT_GUARD_LIMITS: GuardLimits = Object.freeze({
  deadlineMs: DAEMON_PROCESS_DEADLINE_MS,
  maxEventBytes: MAX_DAEMON_EVENT_BYTES,
  maxOutputsPerEvent: MAX_DAEMON_OUTPUTS_PER_EVENT,
  maxOutputBytes: MAX_DAEMON_OUTPUT_BYTES,
  maxOutputBytesPerEvent: MAX_DAEMON_OUTPUT_BYTES_PER_EVENT,
});

/** Which event of which daemon is processed, for the errors. */
export interface ProcessSite {
  readonly daemonName: string;
  readonly inboundOffset: number;
}

/** The event's outputs, checked and copied (a kind may reuse its buffers), or a typed error. */
export async function guardedProcess(
  daemon: MeshDaemon,
  event: DaemonEvent,
  site: ProcessSite,
  clock: Clock,
  limits: GuardLimits = DEFAULT_GUARD_LIMITS,
): Promise<readonly Uint8Array[]> {
  if (event.payload.length > limits.maxEventBytes) {
    throw new DaemonEventTooLargeError(site.daemonName, event.payload.length, limits.maxEventBytes);
  }
  let answer: unknown;
  try {
    answer = daemon.process(event);
  } catch (error) {
    throw processFailed(site, `the kind threw ${describeError(error)}`, !isMeshError(error));
  }
  if (answer instanceof Promise) answer = await withinDeadline(answer, site, clock, limits.deadlineMs);
  return checkedOutputs(answer, site, limits);
}

function withinDeadline(
  answer: Promise<unknown>,
  site: ProcessSite,
  clock: Clock,
  deadlineMs: number,
): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const timer = clock.setTimer(deadlineMs, () =>
      reject(new DaemonProcessTimeoutError(site.daemonName, site.inboundOffset, deadlineMs)),
    );
    answer.then(
      (value) => {
        clock.clearTimer(timer);
        resolve(value);
      },
      (error: unknown) => {
        clock.clearTimer(timer);
        reject(
          processFailed(
            site,
            `the kind's promise rejected with ${describeError(error)}`,
            !isMeshError(error),
          ),
        );
      },
    );
  });
}

function checkedOutputs(answer: unknown, site: ProcessSite, limits: GuardLimits): readonly Uint8Array[] {
  if (!Array.isArray(answer)) {
    throw processFailed(site, `process answered ${describeValue(answer)}, not an array of Uint8Array`);
  }
  if (answer.length > limits.maxOutputsPerEvent) {
    throw processFailed(
      site,
      `${answer.length} outputs, more than the limit of ${limits.maxOutputsPerEvent}`,
    );
  }
  let totalBytes = 0;
  const outputs: Uint8Array[] = [];
  for (const [index, output] of answer.entries()) {
    if (!(output instanceof Uint8Array)) {
      throw processFailed(site, `output ${index} is ${describeValue(output)}, not a Uint8Array`);
    }
    if (output.length > limits.maxOutputBytes) {
      throw processFailed(
        site,
        `output ${index} has ${output.length} bytes, more than the limit of ${limits.maxOutputBytes}`,
      );
    }
    totalBytes += output.length;
    outputs.push(output.slice());
  }
  if (totalBytes > limits.maxOutputBytesPerEvent) {
    throw processFailed(
      site,
      `outputs of ${totalBytes} bytes together, more than the limit of ${limits.maxOutputBytesPerEvent}`,
    );
  }
  return outputs;
}

/** `crashed` unless the kind refused the event with a typed error (its way of saying no). */
function processFailed(site: ProcessSite, reason: string, crashed = true): DaemonProcessFailedError {
  return new DaemonProcessFailedError(site.daemonName, site.inboundOffset, reason, crashed);
}

/**
 * Whether a failed event was the kind crashing rather than refusing it (docs/RECONCILE.md
 * "Crash-loop backoff on a running node"): it threw or rejected with something other than a
 * typed `MeshError`, answered a value that is not its outputs or above their limits, or did not
 * settle within its deadline. A crash stops the member until the reconciler restarts it.
 */
export function isKindCrash(error: MeshError): boolean {
  if (error.code === 'DAEMON_PROCESS_TIMEOUT') return true;
  return error.code === 'DAEMON_PROCESS_FAILED' && error.details.crashed === true;
}

function describeError(error: unknown): string {
  if (error instanceof Error) {
    const code = (error as Partial<MeshError>).code;
    return `${code === undefined ? error.name : code}: ${error.message}`;
  }
  return describeValue(error);
}
