/**
 * The Deck's one connection to its node: `/deck/events` (server-sent events). The node counts as
 * unreachable when the stream errors or stays silent past `SILENCE_MAX_MS` (a heartbeat comes
 * every 2 s, a snapshot every second); EventSource reconnects by itself and the next message
 * clears the banner.
 */
import type { DeckSnapshot } from '../../mesh/admin-documents.js';

export const EVENTS_PATH = '/deck/events';
export const SILENCE_MAX_MS = 5_000;
const SILENCE_CHECK_INTERVAL_MS = 500;

export interface ConnectionState {
  readonly snapshot: DeckSnapshot | undefined;
  readonly reachable: boolean;
  /** When the last message came (ms since the epoch), 0 before any. */
  readonly lastMessageAtMs: number;
  readonly problem: string | undefined;
}

/** Follows the stream and calls `onChange` with every new state; answers a stop function. */
export function follow(onChange: (state: ConnectionState) => void): () => void {
  let state: ConnectionState = {
    snapshot: undefined,
    reachable: false,
    lastMessageAtMs: 0,
    problem: undefined,
  };
  const update = (change: Partial<ConnectionState>): void => {
    state = { ...state, ...change };
    onChange(state);
  };
  const source = new EventSource(EVENTS_PATH);
  const heard = (): void => update({ reachable: true, lastMessageAtMs: Date.now() });
  source.addEventListener('snapshot', (event) => {
    const next = JSON.parse((event as MessageEvent<string>).data) as DeckSnapshot;
    update({ snapshot: withLastKnownParts(state.snapshot, next), problem: undefined });
    heard();
  });
  source.addEventListener('heartbeat', heard);
  source.addEventListener('problem', (event) => {
    update({ problem: (JSON.parse((event as MessageEvent<string>).data) as { message: string }).message });
    heard();
  });
  source.addEventListener('error', () => update({ reachable: false }));
  const silence = setInterval(() => {
    if (state.reachable && Date.now() - state.lastMessageAtMs > SILENCE_MAX_MS) update({ reachable: false });
  }, SILENCE_CHECK_INTERVAL_MS);
  return () => {
    clearInterval(silence);
    source.close();
  };
}

const PARTS = ['nodes', 'rtt', 'maintenance', 'consensus', 'daemons', 'chains', 'reconcile'] as const;

/**
 * A part the node could not read this time (its `problems` say why) is shown as it was last
 * read, so a slow control plane leaves the view as it was rather than empty.
 */
function withLastKnownParts(previous: DeckSnapshot | undefined, next: DeckSnapshot): DeckSnapshot {
  if (previous === undefined || previous.reporter !== next.reporter) return next;
  const kept: Record<string, unknown> = {};
  for (const part of PARTS)
    if (next[part] === undefined && previous[part] !== undefined) kept[part] = previous[part];
  return { ...next, ...kept };
}

/** POSTs an operator action; answers the node's JSON answer, or throws with its message. */
export async function postAction(path: string, body: unknown): Promise<unknown> {
  const response = await fetch(path, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  const answer = (await response.json().catch(() => ({}))) as { error?: string; code?: string };
  if (!response.ok)
    throw new Error(`${answer.code ?? response.status}: ${answer.error ?? response.statusText}`);
  return answer;
}
