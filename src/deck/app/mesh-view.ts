/** The mesh: every node (role, zone, health, maintenance) and the RTT graph as an SVG picture. */
import { html } from 'htm/preact';
import type { DeckSnapshot, RttDocument } from '../../mesh/admin-documents.js';
import type { Ask } from './confirm.js';

const GRAPH_SIZE = 360;
const GRAPH_RADIUS = 130;

interface GraphNode {
  readonly id: number;
  readonly x: number;
  readonly y: number;
  readonly health: string;
}

/** Nodes on a circle; an edge per measured pair, labelled with the smaller of the two RTTs. */
export function RttGraph({
  rtt,
  health,
  leader,
}: {
  rtt: RttDocument | undefined;
  health: Map<number, string>;
  leader: number;
}) {
  const ids = [...new Set([...health.keys(), ...(rtt?.rows.map((row) => row.node) ?? [])])].sort(
    (a, b) => a - b,
  );
  const center = GRAPH_SIZE / 2;
  const nodes: GraphNode[] = ids.map((id, index) => {
    const angle = (2 * Math.PI * index) / Math.max(1, ids.length) - Math.PI / 2;
    return {
      id,
      x: center + GRAPH_RADIUS * Math.cos(angle),
      y: center + GRAPH_RADIUS * Math.sin(angle),
      health: health.get(id) ?? 'unknown',
    };
  });
  const at = new Map(nodes.map((node) => [node.id, node]));
  const edges = new Map<string, { a: GraphNode; b: GraphNode; rttMs: number | undefined; down: boolean }>();
  for (const row of rtt?.rows ?? []) {
    for (const peer of row.peers) {
      const a = at.get(Math.min(row.node, peer.node));
      const b = at.get(Math.max(row.node, peer.node));
      if (a === undefined || b === undefined || a === b) continue;
      const key = `${a.id}-${b.id}`;
      const before = edges.get(key);
      const rttMs =
        peer.rttMs === undefined
          ? before?.rttMs
          : Math.min(peer.rttMs, before?.rttMs ?? Number.POSITIVE_INFINITY);
      edges.set(key, { a, b, rttMs, down: (before?.down ?? false) || !peer.healthy || !row.fresh });
    }
  }
  return html`<svg class="rtt-graph" viewBox="0 0 ${GRAPH_SIZE} ${GRAPH_SIZE}" role="img" aria-label="RTT graph">
    ${[...edges.values()].map(
      ({ a, b, rttMs, down }) => html`<g class=${down ? 'edge down' : 'edge'}>
        <line x1=${a.x} y1=${a.y} x2=${b.x} y2=${b.y} />
        <text x=${(a.x + b.x) / 2} y=${(a.y + b.y) / 2 - 4}>${down ? 'down' : rttMs === undefined ? '?' : `${rttMs.toFixed(2)} ms`}</text>
      </g>`,
    )}
    ${nodes.map(
      (node) => html`<g class=${`graph-node ${node.health}`} data-graph-node=${node.id}>
        ${node.id === leader ? html`<circle class="leader-ring" cx=${node.x} cy=${node.y} r="30" />` : null}
        <circle cx=${node.x} cy=${node.y} r="24" />
        <text x=${node.x} y=${node.y + 5}>n${node.id}</text>
      </g>`,
    )}
  </svg>`;
}

export function MeshView({ snapshot, ask }: { snapshot: DeckSnapshot; ask: Ask }) {
  const nodes = snapshot.nodes?.nodes ?? [];
  const phases = new Map(snapshot.maintenance?.nodes.map((entry) => [entry.node, entry.state]) ?? []);
  const leader = snapshot.consensus?.leaderId ?? 0;
  const health = new Map(nodes.map((node) => [node.id, node.health]));
  return html`<section class="view mesh">
    <div class="panel">
      <h2>Nodes</h2>
      <table>
        <thead><tr><th>Node</th><th>Role</th><th>Zone</th><th>Health</th><th>Maintenance</th><th></th></tr></thead>
        <tbody>
          ${nodes.map((node) => {
            const state = phases.get(node.id) ?? { phase: 'Active' };
            const active = state.phase === 'Active';
            return html`<tr data-node=${node.id} data-health=${node.health} data-phase=${state.phase}>
              <td>
                <strong>${node.name}</strong> <span class="muted">#${node.id}</span>
                ${node.id === leader ? html` <span class="badge leader" data-leader>leader</span>` : null}
                ${node.id === snapshot.reporter ? html` <span class="badge">this node</span>` : null}
              </td>
              <td>${node.role}</td>
              <td>${node.zone === '' ? '-' : node.zone}</td>
              <td><span class=${`health ${node.health}`}>${node.health}</span></td>
              <td>${state.phase}${'reason' in state ? html`<div class="muted">${state.reason}</div>` : null}</td>
              <td class="actions">
                ${
                  active
                    ? html`<button data-action="enter" onClick=${() =>
                        ask({
                          title: `Drain node ${node.id}?`,
                          text: `Node ${node.name} (#${node.id}) enters maintenance: placement skips it and its daemon members and chain replicas move to other nodes.`,
                          path: '/actions/maintenance',
                          body: { node: node.id, target: 'enter' },
                          confirm: 'Drain',
                        })}>Drain</button>`
                    : html`<button data-action="exit" onClick=${() =>
                        ask({
                          title: `Bring node ${node.id} back?`,
                          text: `Node ${node.name} (#${node.id}) exits maintenance: Recovery, then Active.`,
                          path: '/actions/maintenance',
                          body: { node: node.id, target: 'exit' },
                          confirm: 'Exit maintenance',
                        })}>Exit maintenance</button>`
                }
              </td>
            </tr>`;
          })}
        </tbody>
      </table>
    </div>
    <div class="panel">
      <h2>RTT</h2>
      <${RttGraph} rtt=${snapshot.rtt} health=${health} leader=${leader} />
      <p class="muted">Smoothed round-trip times each node publishes; the ring marks the Raft leader.</p>
    </div>
  </section>`;
}
