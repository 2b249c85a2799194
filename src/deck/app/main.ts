/**
 * The Deck: a single page on every node's admin port, fed by that node's `/deck/events`. Views
 * are chosen by the URL's hash (#mesh, #consensus, ...), so switching never reloads the page.
 */
import { html, render } from 'htm/preact';
import { useEffect, useState } from 'preact/hooks';
import { type ActionRequest, ConfirmDialog } from './confirm.js';
import { type ConnectionState, follow, postAction } from './connection.js';
import { MeshView } from './mesh-view.js';
import { ChainsView, ConsensusView, DaemonsView, ReconcileView } from './views.js';

const VIEWS = [
  { id: 'mesh', title: 'Mesh' },
  { id: 'consensus', title: 'Consensus' },
  { id: 'daemons', title: 'Daemons' },
  { id: 'chains', title: 'Chains' },
  { id: 'reconcile', title: 'Reconcile' },
] as const;
type ViewId = (typeof VIEWS)[number]['id'];

const viewOfHash = (): ViewId => {
  const id = window.location.hash.slice(1);
  return VIEWS.find((view) => view.id === id)?.id ?? 'mesh';
};

function Banner({ connection }: { connection: ConnectionState }) {
  if (connection.reachable) return null;
  const since =
    connection.lastMessageAtMs === 0
      ? 'yet'
      : `since ${new Date(connection.lastMessageAtMs).toLocaleTimeString()}`;
  return html`<div class="banner unreachable" id="unreachable" role="alert">
    The node serving this page is unreachable (no events ${since}); retrying. What you see below is its last snapshot.
  </div>`;
}

function Deck() {
  const [connection, setConnection] = useState<ConnectionState>({
    snapshot: undefined,
    reachable: true,
    lastMessageAtMs: 0,
    problem: undefined,
  });
  const [view, setView] = useState<ViewId>(viewOfHash());
  const [pending, setPending] = useState<ActionRequest | undefined>(undefined);
  const [busy, setBusy] = useState(false);
  const [notice, setNotice] = useState<{ text: string; bad: boolean } | undefined>(undefined);
  useEffect(() => follow(setConnection), []);
  useEffect(() => {
    const changed = () => setView(viewOfHash());
    window.addEventListener('hashchange', changed);
    return () => window.removeEventListener('hashchange', changed);
  }, []);
  const confirm = async () => {
    if (pending === undefined) return;
    setBusy(true);
    try {
      await postAction(pending.path, pending.body);
      setNotice({ text: `${pending.title.replace(/\?$/, '')}: requested.`, bad: false });
    } catch (error) {
      setNotice({ text: `${pending.title.replace(/\?$/, '')}: ${(error as Error).message}`, bad: true });
    } finally {
      setBusy(false);
      setPending(undefined);
    }
  };
  const snapshot = connection.snapshot;
  const leader = snapshot?.consensus?.leaderId ?? 0;
  const body = (() => {
    if (snapshot === undefined) return html`<p class="loading">Waiting for the node's first snapshot…</p>`;
    switch (view) {
      case 'consensus':
        return html`<${ConsensusView} snapshot=${snapshot} />`;
      case 'daemons':
        return html`<${DaemonsView} snapshot=${snapshot} ask=${setPending} />`;
      case 'chains':
        return html`<${ChainsView} snapshot=${snapshot} />`;
      case 'reconcile':
        return html`<${ReconcileView} snapshot=${snapshot} />`;
      default:
        return html`<${MeshView} snapshot=${snapshot} ask=${setPending} />`;
    }
  })();
  return html`<header class=${connection.reachable ? 'top' : 'top offline'}>
      <div class="brand"><strong>MeshOS Deck</strong>
        <span class="muted">${snapshot === undefined ? '' : `node ${snapshot.reporter} (${snapshot.reporterRole}) · leader ${leader === 0 ? 'none' : `node ${leader}`} · term ${snapshot.consensus?.term ?? '-'}`}</span>
        <span class=${connection.reachable ? 'live' : 'live off'} data-live=${connection.reachable ? 'yes' : 'no'}>${connection.reachable ? 'live' : 'offline'}</span>
      </div>
      <nav>${VIEWS.map((entry) => html`<a href=${`#${entry.id}`} class=${entry.id === view ? 'current' : ''}>${entry.title}</a>`)}</nav>
    </header>
    <${Banner} connection=${connection} />
    ${notice === undefined ? null : html`<div class=${notice.bad ? 'banner bad' : 'banner good'} data-notice onClick=${() => setNotice(undefined)}>${notice.text}</div>`}
    ${
      (snapshot?.problems.length ?? 0) > 0 || connection.problem !== undefined
        ? html`<div class="banner warn">${[...(snapshot?.problems ?? []), ...(connection.problem === undefined ? [] : [connection.problem])].map((problem) => html`<div>${problem}</div>`)}</div>`
        : null
    }
    <main>${body}</main>
    ${pending === undefined ? null : html`<${ConfirmDialog} request=${pending} busy=${busy} onConfirm=${confirm} onCancel=${() => setPending(undefined)} />`}`;
}

const root = document.getElementById('deck');
if (root !== null) {
  root.textContent = '';
  render(html`<${Deck} />`, root);
}
