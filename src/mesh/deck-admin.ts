/**
 * The Deck's part of the admin port (docs/ADMIN_API.md): the documents by path, the
 * `/deck/events` stream, the page and its bundle, and the operator actions, which call the same
 * code as `meshos node maintenance enter|exit` (a `MaintenanceClient` on the node's control plane)
 * and `meshos daemon move` (the daemons backend the client port serves).
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { MeshError, type NodeId, nodeIdFromText, SystemClock, ValidationError } from '../lib/index.js';
import type { AdminStatusSource } from '../server/index.js';
import {
  type DaemonMoveRequest,
  type MaintenanceActionRequest,
  type MaintenanceStatusDocument,
  versioned,
} from './admin-documents.js';
import { DeckSource } from './deck-source.js';
import { MaintenanceClient } from './maintenance-client.js';
import { type NodeParts, part } from './node-parts.js';

/** How long `POST /actions/daemon-move` waits for the move (the client's default). */
export const DECK_DAEMON_MOVE_TIMEOUT_MS = 60_000;

/** Where `npm run build` puts the bundle: `dist/deck/` beside `dist/src/`. */
function deckDirectory(): string {
  const candidates = [new URL('../../deck/', import.meta.url), new URL('../../dist/deck/', import.meta.url)];
  const found = candidates.find((candidate) => existsSync(new URL('index.html', candidate)));
  return fileURLToPath(found ?? candidates[0]!);
}

export function deckAdminAnswers(
  parts: NodeParts,
  role: 'voter' | 'worker',
): Required<Pick<AdminStatusSource, 'routes' | 'actions' | 'eventStreams' | 'files'>> {
  const clock = new SystemClock();
  const deck = new DeckSource(parts, role);
  const snapshot = () => deck.snapshot(clock.nowMs(), clock.wallMs());
  return {
    routes: {
      '/nodes': () => deck.nodes(),
      '/mesh/rtt': async () => deck.rtt(),
      '/maintenance': async () => deck.maintenance(),
      '/consensus': async () => deck.consensus() ?? { error: 'a worker runs no Raft' },
      '/daemons': () => deck.daemons(clock.nowMs()),
      '/chains': () => deck.chains(),
      '/reconcile': () => deck.reconcile(),
      '/deck/snapshot': snapshot,
    },
    actions: {
      '/actions/maintenance': async (body) => {
        await refuseWhileAuthOn(parts, 'maintenance');
        return maintenanceAction(parts, clock, maintenanceRequest(body));
      },
      '/actions/daemon-move': async (body) => {
        await refuseWhileAuthOn(parts, 'daemon-move');
        const request = moveRequest(body);
        return versioned(
          await part(parts, 'daemons').move(request.daemon, request.to, DECK_DAEMON_MOVE_TIMEOUT_MS),
        );
      },
    },
    eventStreams: { '/deck/events': { snapshot } },
    files: {
      directory: deckDirectory(),
      paths: {
        '/deck': { file: 'index.html', type: 'text/html; charset=utf-8' },
        '/deck/': { file: 'index.html', type: 'text/html; charset=utf-8' },
        '/deck/app.js': { file: 'app.js', type: 'text/javascript; charset=utf-8' },
        '/deck/app.css': { file: 'app.css', type: 'text/css; charset=utf-8' },
      },
    },
  };
}

/** The Deck's actions refused while the cluster's auth is on (`ADMIN_ACTIONS_NEED_AUTH_OFF`). */
export class AdminActionsNeedAuthOffError extends MeshError {
  constructor(action: string) {
    super(
      'ADMIN_ACTIONS_NEED_AUTH_OFF',
      `auth is on: the admin port's ${action} action would act as the node itself, past the roles; use the CLI with --user (meshos node maintenance, meshos daemon move)`,
      { details: { action } },
    );
  }
}

/**
 * The admin port authenticates no one: its actions run as the node, which passes every role. So
 * while auth is on they are refused, and an operator acts through the client port as a user.
 */
async function refuseWhileAuthOn(parts: NodeParts, action: string): Promise<void> {
  const enabled =
    parts.backend !== undefined
      ? parts.backend.auth.enabled
      : parts.workerAuthStatus !== undefined && (await parts.workerAuthStatus()).enabled;
  if (enabled) throw new AdminActionsNeedAuthOffError(action);
}

async function maintenanceAction(
  parts: NodeParts,
  clock: SystemClock,
  request: MaintenanceActionRequest,
): Promise<MaintenanceStatusDocument> {
  const client = new MaintenanceClient(part(parts, 'controlPlane'), clock);
  const status =
    request.target === 'enter'
      ? await client.enter(
          request.node,
          request.deadlineMs === undefined ? {} : { deadlineMs: request.deadlineMs },
        )
      : await client.exit(request.node);
  return versioned(status);
}

const recordOf = (body: unknown): Record<string, unknown> =>
  typeof body === 'object' && body !== null && !Array.isArray(body) ? (body as Record<string, unknown>) : {};

function nodeOf(value: unknown, field: string, problems: string[]): NodeId {
  const id = typeof value === 'number' ? nodeIdFromText(String(value)) : undefined;
  if (id === undefined)
    problems.push(`${field} must be a node id (a positive integer), got ${JSON.stringify(value)}`);
  return id ?? 0;
}

/** `{node, target: 'enter'|'exit', deadlineMs?}`, every problem named at once. */
export function maintenanceRequest(body: unknown): MaintenanceActionRequest {
  const fields = recordOf(body);
  const problems: string[] = [];
  const node = nodeOf(fields.node, 'node', problems);
  const target = fields.target;
  if (target !== 'enter' && target !== 'exit')
    problems.push(`target must be 'enter' or 'exit', got ${JSON.stringify(target)}`);
  const deadlineMs = fields.deadlineMs;
  if (deadlineMs !== undefined && !(Number.isSafeInteger(deadlineMs) && (deadlineMs as number) > 0))
    problems.push(`deadlineMs must be a positive integer, got ${JSON.stringify(deadlineMs)}`);
  if (problems.length > 0) throw new ValidationError('maintenance request', problems);
  return {
    node,
    target: target as 'enter' | 'exit',
    ...(deadlineMs === undefined ? {} : { deadlineMs: deadlineMs as number }),
  };
}

/** `{daemon, to}`, every problem named at once. */
export function moveRequest(body: unknown): DaemonMoveRequest {
  const fields = recordOf(body);
  const problems: string[] = [];
  const to = nodeOf(fields.to, 'to', problems);
  if (typeof fields.daemon !== 'string' || fields.daemon === '')
    problems.push(`daemon must be a daemon name, got ${JSON.stringify(fields.daemon)}`);
  if (problems.length > 0) throw new ValidationError('daemon move request', problems);
  return { daemon: fields.daemon as string, to };
}
