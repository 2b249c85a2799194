import { describe, expect, it } from 'vitest';
import {
  type ChainAppendOperation,
  chainReplicaProblems,
  historyLines,
  type ReplicaRecord,
} from './chain-history.js';

function append(
  value: string,
  status: ChainAppendOperation['status'],
  offset?: number,
): ChainAppendOperation {
  return {
    client: Number(value.split('-')[0]),
    chain: 'c',
    value,
    status,
    ...(offset === undefined ? {} : { offset }),
    callTs: 10,
    ...(status === 'info' ? {} : { returnTs: 20 }),
  };
}

const history = [
  append('0-0', 'ok', 1),
  append('1-0', 'ok', 2),
  append('0-1', 'info'),
  append('1-1', 'fail'),
];
const good: ReplicaRecord[] = [
  { offset: 1, value: '0-0' },
  { offset: 2, value: '1-0' },
  { offset: 4, value: '0-1' },
];

describe('chainReplicaProblems', () => {
  it('accepts identical copies holding every acknowledged append once, an unknown outcome included or not', () => {
    expect(
      chainReplicaProblems(
        'c',
        history,
        new Map([
          ['n1', good],
          ['n2', good],
        ]),
      ),
    ).toEqual([]);
    const withoutUnknown = good.slice(0, 2);
    expect(
      chainReplicaProblems(
        'c',
        history,
        new Map([
          ['n1', withoutUnknown],
          ['n2', withoutUnknown],
        ]),
      ),
    ).toEqual([]);
  });

  it('reports a lost acknowledged append, a duplicate, a refused append present and a phantom', () => {
    const bad: ReplicaRecord[] = [
      { offset: 1, value: '0-0' },
      { offset: 2, value: '0-0' },
      { offset: 3, value: '1-1' },
      { offset: 5, value: '9-9' },
    ];
    const problems = chainReplicaProblems('c', history, new Map([['n1', bad]]));
    expect(problems).toEqual([
      'c: replica n1: 0-0 twice, at 1 and 2',
      'c: replica n1: 1-1 is there but its append was refused',
      'c: replica n1: 9-9 was never appended',
      'c: replica n1: acknowledged 1-0@2 is lost',
    ]);
  });

  it('reports copies in different orders, an offset that does not grow and a moved acknowledged append', () => {
    const swapped: ReplicaRecord[] = [
      { offset: 1, value: '1-0' },
      { offset: 1, value: '0-0' },
    ];
    const problems = chainReplicaProblems(
      'c',
      history,
      new Map([
        ['n1', good],
        ['n2', swapped],
      ]),
    );
    expect(problems).toContain('c: replica n2 differs from n1 at record 0: 1-0@1 vs 0-0@1');
    expect(problems).toContain('c: replica n2: offset 1 after 1');
    expect(problems).toContain('c: replica n2: 1-0 at 1, acknowledged at 2');
  });
});

describe('historyLines', () => {
  it('writes one JSON line per append: status and return_ts only where the history format has them', () => {
    const lines = historyLines([append('0-0', 'ok', 1), append('0-1', 'info')])
      .trim()
      .split('\n');
    expect(lines.map((line) => JSON.parse(line))).toEqual([
      { client: 0, op: 'append', key: 'c', value: '0-0', offset: 1, call_ts: 10, return_ts: 20 },
      { client: 0, op: 'append', key: 'c', value: '0-1', status: 'info', call_ts: 10 },
    ]);
  });
});
