import { describe, expect, it } from 'vitest';
import {
  COUNTER_KIND_NAME,
  type CounterDaemon,
  counterKind,
  DEFAULT_JOURNAL_MAX_BYTES,
  DEFAULT_JOURNAL_MAX_ENTRIES,
  decodeCounterState,
  decodeJournalState,
  type JournalDaemon,
  journalKind,
  MAX_COUNTER_KEYS,
  MAX_JOURNAL_ENTRIES_LIMIT,
} from '../../../src/daemons/index.js';
import { ValidationError } from '../../../src/lib/index.js';
import { thrownCode } from '../../support/error-code.js';
import { context, eventOf, textDecoder, textEncoder, texts } from './fixtures.js';

function counter(): CounterDaemon {
  return counterKind.create(undefined, context()) as CounterDaemon;
}

function journal(config?: unknown): JournalDaemon {
  return journalKind.create(config, context()) as JournalDaemon;
}

describe('the counter kind', () => {
  it('adds decimal integer payloads and answers the running sum', () => {
    const daemon = counter();
    expect(daemon.name).toBe('d1');
    expect(texts(daemon.process(eventOf('5')))).toEqual(['5']);
    expect(texts(daemon.process(eventOf('-12')))).toEqual(['-7']);
    expect(texts(daemon.process(eventOf('0')))).toEqual(['-7']);
    expect(daemon.state()).toEqual({ events: 3, sum: -7 });
    expect(textDecoder.decode(daemon.snapshot())).toBe('{"events":3,"sum":-7}');
  });

  it('refuses payloads that are not decimal integers and changes nothing', () => {
    const daemon = counter();
    daemon.process(eventOf('2'));
    for (const bad of [
      '',
      '1.5',
      ' 1',
      '1 ',
      '+1',
      '0x10',
      'abc',
      '-',
      '12345678901234567',
      '9007199254740993',
    ]) {
      expect(
        thrownCode(() => daemon.process(eventOf(bad))),
        bad,
      ).toBe('DAEMON_PAYLOAD_INVALID');
    }
    expect(thrownCode(() => daemon.process({ payload: new Uint8Array([0xff, 0xfe]) }))).toBe(
      'DAEMON_PAYLOAD_INVALID',
    );
    expect(daemon.state()).toEqual({ events: 1, sum: 2 });
  });

  it('refuses an event that would take the sum out of the safe integer range', () => {
    const daemon = counter();
    daemon.process(eventOf(String(Number.MAX_SAFE_INTEGER)));
    expect(thrownCode(() => daemon.process(eventOf('1')))).toBe('DAEMON_PAYLOAD_INVALID');
    expect(daemon.state()).toEqual({ events: 1, sum: Number.MAX_SAFE_INTEGER });
  });

  it('restores its snapshot into a fresh member, which then continues identically', () => {
    const first = counter();
    for (const value of ['3', '4', '-1']) first.process(eventOf(value));
    const second = counter();
    second.restore(first.snapshot());
    expect(second.state()).toEqual({ events: 3, sum: 6 });
    expect(texts(second.process(eventOf('10')))).toEqual(texts(first.process(eventOf('10'))));
  });

  it('refuses a state it did not write', () => {
    for (const bad of [
      '',
      'null',
      '[]',
      '{"events":1}',
      '{"events":-1,"sum":0}',
      '{"events":1,"sum":2,"x":3}',
      '{"events":1.5,"sum":0}',
    ]) {
      expect(
        thrownCode(() => decodeCounterState(textEncoder.encode(bad))),
        bad,
      ).toBe('DAEMON_STATE_INVALID');
    }
    const daemon = counter();
    daemon.process(eventOf('4'));
    expect(thrownCode(() => daemon.restore(textEncoder.encode('{"sum":1}')))).toBe('DAEMON_STATE_INVALID');
    expect(daemon.state()).toEqual({ events: 1, sum: 4 });
  });

  it('counts the events of each key, keys sorted in its snapshot, and restores them', () => {
    const daemon = counter();
    daemon.process({ ...eventOf('1'), key: 'b' });
    daemon.process(eventOf('1'));
    daemon.process({ ...eventOf('1'), key: 'a' });
    daemon.process({ ...eventOf('1'), key: 'b' });
    expect(() => daemon.process({ ...eventOf('x'), key: 'c' })).toThrow();
    expect(daemon.state()).toEqual({ events: 4, sum: 4, keys: { a: 1, b: 2 } });
    expect(textDecoder.decode(daemon.snapshot())).toBe('{"events":4,"sum":4,"keys":{"a":1,"b":2}}');
    const restored = counter();
    restored.restore(daemon.snapshot());
    restored.process({ ...eventOf('1'), key: 'a' });
    expect(restored.state()).toEqual({ events: 5, sum: 5, keys: { a: 2, b: 2 } });
    for (const bad of [
      '{"events":1,"sum":1,"keys":{}}',
      '{"events":1,"sum":1,"keys":{"a":0}}',
      '{"events":1,"sum":1,"keys":[1]}',
    ]) {
      expect(
        thrownCode(() => decodeCounterState(textEncoder.encode(bad))),
        bad,
      ).toBe('DAEMON_STATE_INVALID');
    }
  });

  it('refuses an event with a new key past MAX_COUNTER_KEYS and changes nothing', () => {
    const daemon = counter();
    for (let index = 0; index < MAX_COUNTER_KEYS; index++)
      daemon.process({ ...eventOf('1'), key: `k${index}` });
    expect(thrownCode(() => daemon.process({ ...eventOf('1'), key: 'one-too-many' }))).toBe(
      'DAEMON_COUNTER_KEYS_FULL',
    );
    daemon.process({ ...eventOf('1'), key: 'k0' });
    expect(daemon.state().events).toBe(MAX_COUNTER_KEYS + 1);
    expect(daemon.state().keys?.k0).toBe(2);
    expect(Object.keys(daemon.state().keys ?? {})).toHaveLength(MAX_COUNTER_KEYS);
  });

  it('takes no config', () => {
    expect(() => counterKind.validateConfig?.({})).not.toThrow();
    expect(() => counterKind.validateConfig?.(null)).not.toThrow();
    expect(() => counterKind.validateConfig?.({ start: 1 })).toThrow(ValidationError);
    expect(() => counterKind.create('seven', context())).toThrow(/config must be an object/);
    expect(counterKind.name).toBe(COUNTER_KIND_NAME);
  });
});

describe('the journal kind', () => {
  it('keeps every payload in arrival order and answers each with its index', () => {
    const daemon = journal();
    const payloads = ['a', '', 'ccc', 'a'];
    const outputs = payloads.flatMap((payload) => texts(daemon.process(eventOf(payload))));
    expect(outputs).toEqual(['0', '1', '2', '3']);
    expect(daemon.payloads().map((payload) => textDecoder.decode(payload))).toEqual(payloads);
    expect(decodeJournalState(daemon.snapshot()).map((payload) => textDecoder.decode(payload))).toEqual(
      payloads,
    );
  });

  it('copies payloads, so a sender reusing its buffer does not change what was kept', () => {
    const daemon = journal();
    const buffer = textEncoder.encode('first');
    daemon.process({ payload: buffer });
    buffer.fill(0);
    expect(textDecoder.decode(daemon.payloads()[0])).toBe('first');
  });

  it('refuses events past its entry limit and past its byte limit, changing nothing', () => {
    const byEntries = journal({ maxEntries: 2 });
    byEntries.process(eventOf('x'));
    byEntries.process(eventOf('y'));
    expect(thrownCode(() => byEntries.process(eventOf('z')))).toBe('DAEMON_JOURNAL_FULL');
    expect(byEntries.payloads()).toHaveLength(2);

    const byBytes = journal({ maxBytes: 5 });
    byBytes.process(eventOf('abc'));
    expect(thrownCode(() => byBytes.process(eventOf('def')))).toBe('DAEMON_JOURNAL_FULL');
    byBytes.process(eventOf('de'));
    expect(byBytes.payloads().map((payload) => textDecoder.decode(payload))).toEqual(['abc', 'de']);
  });

  it('restores its snapshot, refusing a state above its own limits or not of its format', () => {
    const first = journal();
    for (const payload of ['one', 'two', 'three']) first.process(eventOf(payload));
    const second = journal();
    second.restore(first.snapshot());
    expect(texts(second.process(eventOf('four')))).toEqual(['3']);
    expect(texts(second.payloads())).toEqual(['one', 'two', 'three', 'four']);

    const small = journal({ maxEntries: 2 });
    expect(thrownCode(() => small.restore(first.snapshot()))).toBe('DAEMON_STATE_INVALID');
    expect(small.payloads()).toHaveLength(0);
    const snapshot = first.snapshot();
    expect(thrownCode(() => decodeJournalState(snapshot.subarray(0, snapshot.length - 1)))).toBe(
      'DAEMON_STATE_INVALID',
    );
    expect(thrownCode(() => decodeJournalState(new Uint8Array([9, 0])))).toBe('DAEMON_STATE_INVALID');
    expect(thrownCode(() => decodeJournalState(new Uint8Array([...snapshot, 0])))).toBe(
      'DAEMON_STATE_INVALID',
    );
  });

  it('checks its config, listing every problem', () => {
    expect(() => journalKind.validateConfig?.({ maxEntries: 10, maxBytes: 100 })).not.toThrow();
    let problems: readonly string[] = [];
    try {
      journalKind.validateConfig?.({ maxEntries: 0, maxBytes: 'lots', colour: 'red' });
    } catch (error) {
      problems = (error as ValidationError).problems;
    }
    expect(problems).toEqual([
      "config has an unknown field 'colour'",
      `maxEntries must be an integer in [1, ${MAX_JOURNAL_ENTRIES_LIMIT}], got 0`,
      expect.stringMatching(/^maxBytes must be an integer .* got "lots"$/),
    ]);
  });

  it('defaults to its named limits', () => {
    const daemon = journal();
    const full = journal({ maxEntries: DEFAULT_JOURNAL_MAX_ENTRIES, maxBytes: DEFAULT_JOURNAL_MAX_BYTES });
    expect(daemon.snapshot()).toEqual(full.snapshot());
    const big = new Uint8Array(DEFAULT_JOURNAL_MAX_BYTES + 1);
    expect(thrownCode(() => daemon.process({ payload: big }))).toBe('DAEMON_JOURNAL_FULL');
  });
});
