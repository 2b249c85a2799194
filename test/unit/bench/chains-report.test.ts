import { describe, expect, it } from 'vitest';
import type { AppendLoadResult } from '../../../bench/chains/append-load.js';
import { chainsColumns, renderChainsTable } from '../../../bench/chains/chains-report.js';
import type { RoundFigures } from '../../../bench/chains/chains-round.js';
import { chainsBenchSettings } from '../../../bench/chains/chains-settings.js';

function load(clients: number, acksPerSecond: number): AppendLoadResult {
  return {
    clients,
    acknowledged: acksPerSecond,
    failed: 0,
    durationMs: 1_000,
    acksPerSecond,
    p50Ms: 1,
    p99Ms: 2,
  };
}

function round(system: string, acksPerSecond: number, gapMs: number): RoundFigures {
  return {
    system,
    modes: [
      {
        mode: 'interval',
        loads: [load(1, acksPerSecond)],
        readRecordsPerSecond: 10 * acksPerSecond,
        recordsRead: 1_000,
      },
    ],
    failover: { gapMs, killedMember: 0, failedAppends: 3 },
  };
}

describe('chains bench report', () => {
  it('takes the median over rounds and leaves a round without a failover out of its median', () => {
    const columns = chainsColumns([
      round('A', 100, 5_000),
      round('A', 300, Number.NaN),
      round('A', 200, 7_000),
    ]);
    expect(columns).toHaveLength(1);
    const table = renderChainsTable(columns);
    expect(table).toContain('| appends x1 (acks/s) | 200 (100, 300, 200) |');
    expect(table).toContain('| failover gap, kill -9 leader (ms) | 6,000 (5,000, —, 7,000) |');
  });

  it('gives each other column its ratio to the reference column', () => {
    const columns = chainsColumns([round('JetStream', 1_000, 4_000), round('MeshOS', 4_000, 400)]);
    const reference = columns.find((column) => column.system === 'JetStream');
    const table = renderChainsTable(columns, reference);
    expect(table).toContain('| appends x1 (acks/s) | 1,000 | 4,000 | 4.00 |');
    expect(table).toContain('| failover gap, kill -9 leader (ms) | 4,000 | 400 | 0.10 |');
  });
});

describe('chains bench settings', () => {
  it('reads runs, duration, systems, report and notes from the command line', () => {
    const settings = chainsBenchSettings([
      'chains',
      '--runs=5',
      '--duration=3',
      '--systems=jetstream',
      '--report',
      '--note=busy machine',
    ]);
    expect(settings).toEqual({
      runs: 5,
      loadDurationMs: 3_000,
      systems: ['jetstream'],
      report: true,
      notes: ['busy machine'],
    });
  });

  it('refuses an unknown system and a run count out of range', () => {
    expect(() => chainsBenchSettings(['--systems=kafka'])).toThrow(/--systems takes jetstream, meshos/);
    expect(() => chainsBenchSettings(['--runs=0'])).toThrow(/--runs must be a whole number/);
  });
});
