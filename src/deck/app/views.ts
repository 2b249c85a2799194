/** Consensus, daemons and groups, chains, and reconcile (actions, audit, backoffs, avoid list). */
import { html } from 'htm/preact';
import { useState } from 'preact/hooks';
import type { DaemonView, DeckSnapshot } from '../../mesh/admin-documents.js';
import { DECK_PEER_INDEXES_REFRESH_MS } from '../../mesh/deck-peer-indexes.js';
import type { Ask } from './confirm.js';
import { ago, rate, until } from './format.js';

const missing = (what: string) =>
  html`<p class="muted">The node did not answer its ${what} part (see the problems above).</p>`;

export function ConsensusView({ snapshot }: { snapshot: DeckSnapshot }) {
  const consensus = snapshot.consensus;
  if (consensus === undefined) return missing('consensus');
  return html`<section class="view">
    <div class="panel">
      <h2>Raft</h2>
      <dl class="facts">
        <dt>Leader</dt><dd data-consensus-leader=${consensus.leaderId}>${consensus.leaderId === 0 ? 'none (electing)' : `node ${consensus.leaderId}`}</dd>
        <dt>Term</dt><dd>${consensus.term}</dd>
        <dt>Commit</dt><dd>${consensus.commitIndex}</dd>
        <dt>Applied here</dt><dd>${consensus.appliedIndex}</dd>
        <dt>Answered by</dt><dd>node ${consensus.reporter} (${consensus.role})</dd>
      </dl>
      <table>
        <thead><tr><th>Member</th><th>Kind</th><th>Match</th><th>Lag</th><th>Progress</th><th>Commit</th><th>Applied</th></tr></thead>
        <tbody>${consensus.members.map(
          (member) => html`<tr>
            <td>node ${member.id}${member.id === consensus.leaderId ? html` <span class="badge leader">leader</span>` : null}</td>
            <td>${member.voter ? 'voter' : 'learner'}</td>
            <td>${member.match ?? '-'}</td><td>${member.lag ?? '-'}</td><td>${member.state ?? '-'}</td><td>${member.commit ?? '-'}</td><td>${member.applied ?? '-'}</td>
          </tr>`,
        )}</tbody>
      </table>
      ${consensus.role === 'leader' ? null : html`<p class="muted">Match and lag per member are known to the leader; open the leader's Deck for them.</p>`}
      <p class="muted">Commit and applied of the other members are as each answered in the last ${DECK_PEER_INDEXES_REFRESH_MS / 1000} s.</p>
    </div>
    <div class="panel">
      <h2>Recent leader changes</h2>
      <table>
        <thead><tr><th>Term</th><th>Leader</th><th>Seen</th></tr></thead>
        <tbody>${[...consensus.elections]
          .reverse()
          .map(
            (change) =>
              html`<tr><td>${change.term}</td><td>${change.leaderId === 0 ? 'none' : `node ${change.leaderId}`}</td><td>${ago(change.atWallMs, snapshot.atWallMs)}</td></tr>`,
          )}</tbody>
      </table>
    </div>
  </section>`;
}

function MoveButton({ daemon, nodes, ask }: { daemon: DaemonView; nodes: readonly number[]; ask: Ask }) {
  const holders = new Set(daemon.members.map((member) => member.node));
  const targets = nodes.filter((node) => !holders.has(node));
  const [target, setTarget] = useState<number | undefined>(undefined);
  if (targets.length === 0) return html`<span class="muted">no free node to move to</span>`;
  const to = target ?? targets[0]!;
  return html`<span class="move">
    <select aria-label="move to" onChange=${(event: Event) => setTarget(Number((event.target as HTMLSelectElement).value))}>
      ${targets.map((node) => html`<option value=${node} selected=${node === to}>node ${node}</option>`)}
    </select>
    <button data-action="move" onClick=${() =>
      ask({
        title: `Move ${daemon.name} to node ${to}?`,
        text: `The active member of ${daemon.name} moves to node ${to}; events pause while it moves.`,
        path: '/actions/daemon-move',
        body: { daemon: daemon.name, to },
        confirm: 'Move',
      })}>Move</button>
  </span>`;
}

export function DaemonsView({ snapshot, ask }: { snapshot: DeckSnapshot; ask: Ask }) {
  const document = snapshot.daemons;
  if (document === undefined) return missing('daemons');
  const nodes = (snapshot.nodes?.nodes ?? []).map((node) => node.id);
  return html`<section class="view">
    ${document.daemons.length === 0 ? html`<p class="muted">No daemons deployed.</p>` : null}
    ${document.daemons.map((daemon) => {
      const active = daemon.members.find((member) => member.role === 'active');
      return html`<div class="panel" data-daemon=${daemon.name} data-active-node=${active?.node ?? 0}>
        <h2>${daemon.name} <span class="muted">${daemon.kind}, ${daemon.group}</span></h2>
        <dl class="facts">
          <dt>Epoch</dt><dd>${daemon.epoch}</dd>
          <dt>Inbound through</dt><dd>${daemon.inboundThrough}</dd>
          <dt>Events/s</dt><dd>${rate(daemon.eventsPerSecond)}</dd>
          ${daemon.desiredMembers === undefined ? null : html`<dt>Members asked for</dt><dd data-desired-members>${daemon.desiredMembers} (${daemon.members.length} placed)</dd>`}
        </dl>
        <table>
          <thead><tr><th>Member</th><th>Node</th><th>Role</th><th>Synced through</th><th>Behind</th><th>Health</th></tr></thead>
          <tbody>${daemon.members.map(
            (member) => html`<tr data-member-node=${member.node} data-member-role=${member.role}>
              <td>${member.index}</td><td>node ${member.node}</td>
              <td><span class=${`badge ${member.role}`}>${member.role}</span></td>
              <td>${member.syncedThrough < 0 ? '?' : member.syncedThrough}</td>
              <td>${member.syncedThrough < 0 ? '?' : Math.max(0, daemon.inboundThrough - member.syncedThrough)}</td>
              <td><span class=${member.healthy ? 'health alive' : 'health suspect'}>${member.healthy ? 'healthy' : 'unhealthy'}</span></td>
            </tr>`,
          )}</tbody>
        </table>
        <div class="actions"><${MoveButton} daemon=${daemon} nodes=${nodes} ask=${ask} /></div>
      </div>`;
    })}
    ${document.omitted > 0 ? html`<p class="muted">${document.omitted} more daemons not shown.</p>` : null}
  </section>`;
}

export function ChainsView({ snapshot }: { snapshot: DeckSnapshot }) {
  const document = snapshot.chains;
  if (document === undefined) return missing('chains');
  return html`<section class="view">
    <div class="panel wide">
      <h2>Chains</h2>
      ${document.chains.length === 0 ? html`<p class="muted">No chains.</p>` : null}
      <table>
        <thead><tr><th>Chain</th><th>Leader</th><th>Epoch</th><th>Acks</th><th>Commit</th><th>Replicas (lag)</th></tr></thead>
        <tbody>${document.chains.map(
          (chain) => html`<tr data-chain=${chain.name} data-chain-leader=${chain.leader}>
            <td><strong>${chain.name}</strong></td>
            <td>${chain.leader === 0 ? 'electing' : `node ${chain.leader}`}</td>
            <td>${chain.epoch}</td><td>${chain.acks}</td><td>${chain.commitOffset}</td>
            <td>${chain.replicas.map(
              (replica) =>
                html`<span class=${replica.healthy ? 'chip' : 'chip bad'}>n${replica.node}: ${replica.lag}</span> `,
            )}${(chain.learners ?? []).map((learner) => html`<span class="chip learner">n${learner.node} learning: ${learner.lag}</span> `)}</td>
          </tr>`,
        )}</tbody>
      </table>
    </div>
  </section>`;
}

export function ReconcileView({ snapshot }: { snapshot: DeckSnapshot }) {
  const document = snapshot.reconcile;
  if (document === undefined) return missing('reconcile');
  const now = snapshot.atWallMs;
  const { counts, queueLatency } = document.actions;
  return html`<section class="view" data-view="reconcile">
    <div class="panel wide">
      <h2>Actions</h2>
      <p>
        Reconciler: ${document.reconcilerNode === 0 ? 'no term recorded yet' : `node ${document.reconcilerNode}`} ·
        ${Object.entries(counts)
          .filter(([, count]) => count > 0)
          .map(([state, count]) => html`<span class="chip">${state} ${count}</span> `)}
        · queue latency ${queueLatency.count === 0 ? '-' : `p50 ${queueLatency.p50Ms} ms, p99 ${queueLatency.p99Ms} ms`}
      </p>
      <table>
        <thead><tr><th>Epoch/id</th><th>State</th><th>Action</th><th>Queued</th><th>Latency</th><th>Reason</th></tr></thead>
        <tbody>${[...document.actions.actions].reverse().map(
          (action) => html`<tr>
            <td>${action.epoch}/${action.id}</td><td><span class=${`badge ${action.state}`}>${action.state}</span></td>
            <td>${action.action === undefined ? '?' : action.action.kind}</td>
            <td>${ago(action.queuedAtWallMs, now)}</td>
            <td>${action.queueLatencyMs === undefined ? '-' : `${action.queueLatencyMs} ms`}</td>
            <td class="muted">${action.reason ?? ''}</td>
          </tr>`,
        )}</tbody>
      </table>
    </div>
    <div class="panel">
      <h2>Audit chain (newest)</h2>
      <ol class="audit">${[...document.audit]
        .reverse()
        .map(
          (record) =>
            html`<li><span class="muted">#${record.seq} ${ago(record.atWallMs, now)} n${record.node}/e${record.epoch}</span> ${record.entry.type}${'id' in record.entry ? ` #${record.entry.id}` : ''}</li>`,
        )}</ol>
    </div>
    <div class="panel">
      <h2>Crash-loop backoffs</h2>
      ${document.backoffs.length === 0 ? html`<p class="muted">None.</p>` : null}
      <ul>${document.backoffs.map((backoff) => html`<li>${backoff.daemon} on node ${backoff.node}: ${until(backoff.untilWallMs, now)}</li>`)}</ul>
      <h2>Avoid list</h2>
      ${document.avoid.length === 0 ? html`<p class="muted">None.</p>` : null}
      <ul>${document.avoid.map((entry) => html`<li>node ${entry.node}: ${entry.reason} (${until(entry.untilWallMs, now)})</li>`)}</ul>
    </div>
  </section>`;
}
