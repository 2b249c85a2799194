import { describe, expect, it } from 'vitest';
import { DuplicateKindError, StatelessDaemon, UnknownKindError } from '../../../src/compute/index.js';
import {
  BUILT_IN_KINDS,
  createKindCatalog,
  type DaemonKind,
  kindProblems,
  looksLikeKind,
} from '../../../src/daemons/index.js';
import { ValidationError } from '../../../src/lib/index.js';

class Echo extends StatelessDaemon {
  readonly name = 'echo';
  process(event: { payload: Uint8Array }): readonly Uint8Array[] {
    return [event.payload];
  }
}

const echoKind: DaemonKind = { name: 'echo', create: () => new Echo() };

describe('the kind catalog', () => {
  it('serves the built-in kinds and any added ones by name, names sorted', () => {
    const catalog = createKindCatalog([...BUILT_IN_KINDS, echoKind]);
    expect(catalog.names()).toEqual(['counter', 'echo', 'journal']);
    expect(catalog.has('echo')).toBe(true);
    expect(catalog.get('echo')).toBe(echoKind);
    expect(catalog.get('counter').name).toBe('counter');
  });

  it('answers an unknown kind with DAEMON_KIND_UNKNOWN', () => {
    const catalog = createKindCatalog(BUILT_IN_KINDS);
    expect(catalog.has('echo')).toBe(false);
    expect(() => catalog.get('echo')).toThrow(UnknownKindError);
    expect(() => catalog.get('echo')).toThrow(expect.objectContaining({ code: 'DAEMON_KIND_UNKNOWN' }));
  });

  it('refuses two kinds of one name with DAEMON_KIND_DUPLICATE', () => {
    const impostor: DaemonKind = { name: 'counter', create: () => new Echo() };
    expect(() => createKindCatalog([...BUILT_IN_KINDS, impostor])).toThrow(DuplicateKindError);
    expect(() => createKindCatalog([echoKind, echoKind])).toThrow(
      expect.objectContaining({ code: 'DAEMON_KIND_DUPLICATE' }),
    );
  });

  it('refuses a kind without a valid name or a create function, naming the problems', () => {
    const bad = { name: 'has space', create: 'no', validateConfig: 3 } as unknown as DaemonKind;
    expect(() => createKindCatalog([bad])).toThrow(ValidationError);
    expect(kindProblems(bad)).toEqual([
      expect.stringMatching(/^kind.name must be 1 to 64 letters/),
      'kind.create must be a function, got "no"',
      'kind.validateConfig must be a function, got 3',
    ]);
    expect(kindProblems({ name: 'x'.repeat(65), create: () => new Echo() })).toHaveLength(1);
    expect(kindProblems(echoKind)).toEqual([]);
  });

  it('tells a kind-shaped export from anything else', () => {
    expect(looksLikeKind(echoKind)).toBe(true);
    expect(looksLikeKind({ name: 'x' })).toBe(false);
    expect(looksLikeKind(() => 1)).toBe(false);
    expect(looksLikeKind(undefined)).toBe(false);
  });
});
