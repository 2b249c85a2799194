/**
 * Names what keeps a finished command's process alive, for the exit guard in `main.ts`. By
 * default: the resource kinds Node reports and each socket's, server's and child's address or pid.
 * With `MESHOS_DEBUG_HANDLES=1` an async hook also records where every resource was created, so a
 * lingering timer or socket is named by the line of MeshOS (or library) code that made it; the
 * hook costs time on every resource, hence opt-in.
 */
import { createHook } from 'node:async_hooks';

export const DEBUG_HANDLES_ENVIRONMENT_VARIABLE = 'MESHOS_DEBUG_HANDLES';
/** How long a process may outlive its command before the guard names its handles and exits. */
export const EXIT_AFTER_RETURN_MS = 5_000;
/** Opens the guard's stderr line, so tests can tell a process that exited by itself. */
export const EXIT_GUARD_MESSAGE = `meshos: still running ${EXIT_AFTER_RETURN_MS} ms after the command ended`;

/** Stack frames kept per recorded resource: enough to pass the library frames to ours. */
const CREATION_STACK_FRAMES = 12;
/** Resources listed with their creation stack, at most; the rest are counted. */
const MAX_DESCRIBED_RESOURCES = 40;

/** Resources that keep the loop alive by themselves (promises and one-shot callbacks do not). */
const LOOP_HOLDING_TYPES = new Set([
  'Timeout',
  'Immediate',
  'TCPWRAP',
  'TCPSERVERWRAP',
  'TLSWRAP',
  'PIPEWRAP',
  'PROCESSWRAP',
  'Http2Session',
  'FSREQCALLBACK',
  'FSREQPROMISE',
  'FILEHANDLE',
  'WORKER',
  'MESSAGEPORT',
  'SIGNALWRAP',
  'STATWATCHER',
  'FSEVENTWRAP',
  'GETADDRINFOREQWRAP',
  'TCPCONNECTWRAP',
  'WRITEWRAP',
  'SHUTDOWNWRAP',
]);

interface Recorded {
  readonly type: string;
  readonly resource: object;
  readonly stack: string;
}

const recorded = new Map<number, Recorded>();

/** Starts recording creation stacks when `MESHOS_DEBUG_HANDLES=1`; otherwise does nothing. */
export function trackHandlesWhenAsked(): void {
  if (process.env[DEBUG_HANDLES_ENVIRONMENT_VARIABLE] !== '1') return;
  Error.stackTraceLimit = Math.max(Error.stackTraceLimit, CREATION_STACK_FRAMES + 8);
  createHook({
    init(asyncId, type, _triggerAsyncId, resource) {
      if (!LOOP_HOLDING_TYPES.has(type)) return;
      const holder: { stack?: string } = {};
      Error.captureStackTrace(holder);
      const frames = (holder.stack ?? '')
        .split('\n')
        .slice(1)
        .filter((line) => !line.includes('node:internal/async_hooks') && !line.includes('lingering-handles'))
        .slice(0, CREATION_STACK_FRAMES)
        .map((line) => line.trim());
      recorded.set(asyncId, { type, resource, stack: frames.join(' < ') });
    },
    destroy(asyncId) {
      recorded.delete(asyncId);
    },
  }).enable();
}

/** A timer still holds the loop unless it fired (once), was cleared or was unref'd. */
function timerHolds(entry: Recorded): boolean {
  const timer = entry.resource as { hasRef?: () => boolean; _destroyed?: boolean };
  return entry.type === 'Timeout' && timer._destroyed !== true && timer.hasRef?.() === true;
}

/** Where the handle (a socket, server or child process) was created, when the hook saw it. */
function creationOf(handle: unknown): string {
  const inner = (handle as { _handle?: { getAsyncId?: () => number } })._handle;
  const asyncId = inner?.getAsyncId?.();
  const entry = asyncId === undefined ? undefined : recorded.get(asyncId);
  return entry === undefined ? '' : ` (from ${entry.stack})`;
}

function describeHandle(handle: unknown): string {
  const kind = (handle as { constructor?: { name?: string } }).constructor?.name ?? typeof handle;
  const socket = handle as {
    localAddress?: string;
    localPort?: number;
    remoteAddress?: string;
    remotePort?: number;
    address?: () => unknown;
    pid?: number;
    fd?: number;
  };
  if (kind === 'Socket' || kind === 'TLSSocket') {
    if (socket.remoteAddress === undefined) return `${kind} fd ${socket.fd ?? '?'}`;
    return `${kind} ${socket.localAddress}:${socket.localPort} -> ${socket.remoteAddress}:${socket.remotePort}`;
  }
  if (kind === 'Server' && typeof socket.address === 'function') {
    return `${kind} listening on ${JSON.stringify(socket.address())}`;
  }
  if (kind === 'ChildProcess') return `${kind} pid ${socket.pid}`;
  return kind;
}

/**
 * One line naming what holds the loop: the resource kinds, the handles with their addresses, and
 * (when tracking) each live resource with where it was created.
 */
export function describeLingeringHandles(): string {
  const handles = (process as unknown as { _getActiveHandles?: () => unknown[] })._getActiveHandles?.() ?? [];
  const parts = [
    `resources [${process.getActiveResourcesInfo().join(', ')}]`,
    `handles [${handles.map((handle) => `${describeHandle(handle)}${creationOf(handle)}`).join('; ')}]`,
  ];
  if (recorded.size > 0) {
    const live = [...recorded.values()].filter(timerHolds);
    const shown = live.slice(0, MAX_DESCRIBED_RESOURCES).map((entry) => `${entry.type} from ${entry.stack}`);
    const more = live.length - shown.length;
    parts.push(`timers [${shown.join(' | ')}${more > 0 ? ` | and ${more} more` : ''}]`);
  }
  return parts.join(' ');
}
