import { describe, expect, it } from 'vitest';
import { type DaemonSendOperation, daemonHistoryLines, journalProblems } from './daemon-history.js';

const op = (client: number, counter: number, status: DaemonSendOperation['status']): DaemonSendOperation => ({
  client,
  daemon: 'log',
  value: `${client}-${counter}`,
  counter,
  status,
  callTs: counter,
  ...(status === 'info' ? {} : { returnTs: counter + 1 }),
});

describe('the journal check', () => {
  const history = [op(0, 1, 'ok'), op(0, 2, 'info'), op(0, 3, 'fail'), op(1, 1, 'ok'), op(1, 2, 'ok')];

  it('accepts every acknowledged event once, in each sender order, an unknown one at most once', () => {
    expect(journalProblems(history, ['0-1', '1-1', '1-2'])).toEqual([]);
    expect(journalProblems(history, ['1-1', '0-1', '0-2', '1-2'])).toEqual([]);
  });

  it('names lost, doubled, failed-but-applied, never-sent and reordered events', () => {
    expect(journalProblems(history, ['0-1', '0-2', '0-2', '0-3', '1-2', '1-1', '9-9'])).toEqual([
      '0-2 comes after counter 2 of client 0: out of order',
      '1-1 comes after counter 2 of client 1: out of order',
      '9-9 is in the journal but was never sent',
      '0-2 is in the journal 2 times',
      'failed 0-3 was applied',
    ]);
    expect(journalProblems(history, ['0-1', '1-2'])).toEqual(['acknowledged 1-1 is missing']);
  });

  it('writes one HISTORY_FORMAT line per send, info without a return time', () => {
    expect(daemonHistoryLines([op(0, 2, 'info'), { ...op(1, 1, 'ok'), inboundOffset: 7 }])).toBe(
      '{"client":0,"op":"send","key":"log","value":"0-2","status":"info","call_ts":2}\n' +
        '{"client":1,"op":"send","key":"log","value":"1-1","inbound_offset":7,"call_ts":1,"return_ts":2}\n',
    );
  });
});
