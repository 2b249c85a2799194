/** The admin schema checker: names every place a document differs, accepts one that fits. */
import { describe, expect, it } from 'vitest';
import { maintenanceRequest, moveRequest } from '../../../src/mesh/deck-admin.js';
import { ADMIN_SCHEMA, schemaProblems } from '../../../src/mesh/index.js';

describe('admin schema', () => {
  const rtt = ADMIN_SCHEMA['/mesh/rtt']!;

  it('accepts a document that fits and names each problem of one that does not', () => {
    const good = {
      schemaVersion: 1,
      reporter: 1,
      rows: [
        {
          node: 1,
          publishedAtMs: 5,
          fresh: true,
          peers: [
            { node: 2, rttMs: 0.4, healthy: true },
            { node: 3, healthy: false },
          ],
        },
      ],
    };
    expect(schemaProblems(rtt, good)).toEqual([]);
    expect(
      schemaProblems(rtt, {
        schemaVersion: 2,
        rows: [
          { node: 'one', publishedAtMs: 5, fresh: true, peers: [{ node: 2, rttMs: 'fast', healthy: true }] },
        ],
      }),
    ).toEqual([
      '$.reporter: missing',
      '$.schemaVersion: must be 1, is 2',
      '$.rows[0].node: must be integer, is string',
      '$.rows[0].peers[0].rttMs: must be number, is string',
    ]);
  });

  it('checks enums and nested parts of the Deck snapshot', () => {
    const snapshot = ADMIN_SCHEMA['/deck/snapshot']!;
    const base = { schemaVersion: 1, reporter: 1, reporterRole: 'voter', atWallMs: 1, problems: [] };
    expect(schemaProblems(snapshot, base)).toEqual([]);
    expect(
      schemaProblems(snapshot, {
        ...base,
        maintenance: { schemaVersion: 1, nodes: [{ node: 2, state: { phase: 'Away' } }] },
      }),
    ).toEqual([
      '$.maintenance.nodes[0].state.phase: must be one of ["Active","EnteringMaintenance","Maintenance","ExitingMaintenance","Recovery","DrainFailed"], is "Away"',
    ]);
  });

  it("takes a daemon's desiredMembers as optional: absent or an integer", () => {
    const daemons = ADMIN_SCHEMA['/daemons']!;
    const daemon = {
      name: 'tally',
      kind: 'counter',
      group: 'standby',
      epoch: 1,
      inboundThrough: 4,
      members: [{ index: 0, node: 1, role: 'active', syncedThrough: 4, healthy: true }],
    };
    const document = (entry: object) => ({ schemaVersion: 1, daemons: [entry], omitted: 0 });
    expect(schemaProblems(daemons, document(daemon))).toEqual([]);
    expect(schemaProblems(daemons, document({ ...daemon, desiredMembers: 3 }))).toEqual([]);
    expect(schemaProblems(daemons, document({ ...daemon, desiredMembers: 'three' }))).toEqual([
      '$.daemons[0].desiredMembers: must be integer, is string',
    ]);
  });

  it('reads operator action bodies, naming every problem at once', () => {
    expect(maintenanceRequest({ node: 3, target: 'enter', deadlineMs: 60_000 })).toEqual({
      node: 3,
      target: 'enter',
      deadlineMs: 60_000,
    });
    expect(() => maintenanceRequest({ node: 0, target: 'up', deadlineMs: -1 })).toThrow(
      /node must be a node id.*target must be 'enter' or 'exit'.*deadlineMs must be a positive integer/,
    );
    expect(moveRequest({ daemon: 'tally', to: 2 })).toEqual({ daemon: 'tally', to: 2 });
    expect(() => moveRequest({ to: '2' })).toThrow(/to must be a node id.*daemon must be a daemon name/);
  });
});
