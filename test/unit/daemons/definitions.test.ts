import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  type ControlPlane,
  ControlRecordDecodeError,
  chainKey,
  daemonKey,
  encodeRecord,
  openControlPlane,
} from '../../../src/control/index.js';
import { DaemonExistsError, DeployedDaemonNotFoundError } from '../../../src/daemons/cluster-errors.js';
import {
  daemonDefinitionProblems,
  decodeDaemonDefinition,
  encodeDaemonDefinition,
} from '../../../src/daemons/definition-codec.js';
import { validateDaemonDeploy } from '../../../src/daemons/deploy-request.js';
import { DaemonDirectory, type StoredDaemon, withActive } from '../../../src/daemons/directory.js';
import type { DaemonDefinition } from '../../../src/daemons/types.js';
import { ManualClock, ValidationError } from '../../../src/lib/index.js';
import { standbyDefinition } from '../../support/daemon-definition.js';
import { LocalKvBackend } from '../../support/local-kv-backend.js';
import { until } from '../../support/until.js';

const journal: DaemonDefinition = standbyDefinition({
  name: 'audit',
  config: { maxEntries: 100 },
  members: [
    { index: 0, node: 2 },
    { index: 1, node: 1 },
    { index: 2, node: 3 },
  ],
  createdAtMs: 1_000,
});

describe('the stored definition', () => {
  it('round-trips through the control plane codec', () => {
    const bytes = encodeDaemonDefinition(journal);
    expect(decodeDaemonDefinition(daemonKey('audit'), bytes)).toEqual(journal);
  });

  it('names every broken invariant', () => {
    const problems = daemonDefinitionProblems({
      ...journal,
      group: 'single',
      members: [
        { index: 0, node: 2 },
        { index: 2, node: 2 },
      ],
      active: 5,
      acks: 'some',
      epoch: 0,
      extra: true,
    });
    expect(problems).toEqual(
      expect.arrayContaining([
        'members[1].index must be 1',
        'members name node 2 twice',
        'a single group has 1 to 1 members, got 2',
        expect.stringContaining('active'),
        expect.stringContaining('acks'),
        expect.stringContaining('epoch'),
        "definition has an unknown field 'extra'",
      ]),
    );
    expect(daemonDefinitionProblems({ ...journal, group: 'replica' })).toEqual([
      'a replica group has no active member',
    ]);
    // A fork group names its parent and fork point; no other group does.
    expect(daemonDefinitionProblems({ ...journal, group: 'fork' })).toEqual([
      'forkOf must be an object, got undefined',
    ]);
    const fork = { ...journal, group: 'fork', forkOf: { parent: 'origin', inboundOffset: 4 } };
    expect(daemonDefinitionProblems(fork)).toEqual([]);
    expect(
      daemonDefinitionProblems({ ...fork, forkOf: { parent: 'origin', inboundOffset: -1, at: 1 } }),
    ).toEqual([expect.stringContaining('forkOf.inboundOffset'), "forkOf has an unknown field 'at'"]);
    expect(daemonDefinitionProblems({ ...journal, forkOf: fork.forkOf })).toEqual([
      'a standby group has no forkOf (fork groups only)',
    ]);
  });

  it('refuses bytes stored under another daemon name, or not a definition', () => {
    const bytes = encodeDaemonDefinition(journal);
    expect(() => decodeDaemonDefinition(daemonKey('other'), bytes)).toThrow(ControlRecordDecodeError);
    const bad = encodeRecord(daemonKey('audit'), { ...journal, members: [] });
    expect(() => decodeDaemonDefinition(daemonKey('audit'), bad)).toThrow(/members must be a list/);
  });
});

describe('a deploy request', () => {
  it('takes the defaults and refuses bad requests, naming every problem', () => {
    expect(validateDaemonDeploy({ name: 'sum', kind: 'counter', group: 'single', members: 1 })).toEqual({
      name: 'sum',
      kind: 'counter',
      group: 'single',
      memberCount: 1,
      config: undefined,
      standbyMode: 'hot',
      acks: 'quorum',
    });
    let error: unknown;
    try {
      validateDaemonDeploy({
        name: 'bad name',
        kind: '',
        group: 'replica',
        members: 0,
        acks: 'most' as never,
        forkOf: { parent: 'origin' },
      });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ValidationError);
    const problems = (error as ValidationError).problems;
    expect(problems).toHaveLength(5);
    expect(problems.join('\n')).toMatch(/name/);
    expect(problems.join('\n')).toMatch(/forkOf is for fork groups only/);
    // A fork names its parent; its fork point, when given, is an inbound offset.
    expect(() => validateDaemonDeploy({ name: 'f', kind: 'journal', group: 'fork', members: 1 })).toThrow(
      /forkOf must be an object/,
    );
    expect(() =>
      validateDaemonDeploy({
        name: 'f',
        kind: 'journal',
        group: 'fork',
        members: 1,
        forkOf: { parent: 'origin', inboundOffset: -1 },
      }),
    ).toThrow(/forkOf.inboundOffset/);
    expect(
      validateDaemonDeploy({
        name: 'f',
        kind: 'journal',
        group: 'fork',
        members: 2,
        forkOf: { parent: 'origin' },
      }).forkOf,
    ).toEqual({ parent: 'origin', inboundOffset: undefined });
    expect(() =>
      validateDaemonDeploy({ name: 'sum', kind: 'counter', group: 'standby', members: 1 }),
    ).toThrow(/members/);
    expect(() =>
      validateDaemonDeploy({ name: 'x'.repeat(101), kind: 'counter', group: 'single', members: 1 }),
    ).toThrow(/longer than 100/);
  });
});

describe('DaemonDirectory', () => {
  let clock: ManualClock;
  let backend: LocalKvBackend;
  let plane: ControlPlane;
  let directory: DaemonDirectory;
  beforeEach(async () => {
    clock = new ManualClock();
    backend = new LocalKvBackend({ clock });
    plane = await openControlPlane({ kind: 'in-process', backend, clock });
    directory = new DaemonDirectory(plane);
  });
  afterEach(async () => {
    await plane.close();
    backend.close();
  });

  it('creates once, reads, lists and deletes', async () => {
    const created = await directory.create(journal);
    expect(await directory.get('audit')).toEqual(created);
    await expect(directory.create(journal)).rejects.toBeInstanceOf(DaemonExistsError);
    await directory.create({
      ...journal,
      name: 'tally',
      kind: 'counter',
      group: 'single',
      members: [{ index: 0, node: 1 }],
    });
    expect((await directory.list()).map((daemon) => daemon.definition.name)).toEqual(['audit', 'tally']);
    await directory.delete('audit');
    await expect(directory.require('audit')).rejects.toBeInstanceOf(DeployedDaemonNotFoundError);
    await expect(directory.delete('audit')).rejects.toBeInstanceOf(DeployedDaemonNotFoundError);
  });

  it('changes the active by compare-and-swap: of two writers of one version only one wins', async () => {
    const created = await directory.create(journal);
    const first = await directory.swap(created, withActive(created.definition, 1));
    const second = await directory.swap(created, withActive(created.definition, 2));
    expect(first.applied).toBe(true);
    expect(second.applied).toBe(false);
    if (second.applied || !first.applied) throw new Error('unreachable');
    expect(second.fenced).toBe(false);
    expect(second.current).toEqual(first.daemon);
    expect(first.daemon.definition).toMatchObject({ active: 1, epoch: 2 });
  });

  it('writes beside an unchanged definition only (whileUnchanged), leaving the definition as it is', async () => {
    const created = await directory.create(journal);
    const write = (value: string) => ({
      compare: [],
      success: [
        { type: 'put' as const, key: chainKey('audit.inbound'), value: new TextEncoder().encode(value) },
      ],
    });
    expect(await directory.whileUnchanged(created, write('first'))).toBe(true);
    expect(await directory.get('audit')).toEqual(created);
    await directory.swap(created, withActive(created.definition, 1));
    expect(await directory.whileUnchanged(created, write('second'))).toBe(false);
    const stored = await plane.get(chainKey('audit.inbound'));
    expect(new TextDecoder().decode(stored?.value)).toBe('first');
  });

  it('follows the definitions: the whole map first, then each change', async () => {
    await directory.create(journal);
    const seen: string[][] = [];
    let latest: ReadonlyMap<string, StoredDaemon> = new Map();
    const follower = directory.follow((daemons) => {
      latest = daemons;
      seen.push([...daemons.keys()].sort());
    }, clock);
    await until(() => seen.length === 1, 'the first listing');
    const stored = await directory.require('audit');
    await directory.swap(stored, withActive(stored.definition, 2));
    await until(() => latest.get('audit')?.definition.epoch === 2, 'epoch 2');
    await directory.delete('audit');
    await until(() => latest.size === 0, 'the deletion');
    // A value that is not a definition is left out, never fatal.
    await plane.put(daemonKey('junk'), encodeRecord(daemonKey('junk'), { name: 'junk' }));
    await directory.create({ ...journal, name: 'later' });
    await until(() => latest.has('later'), 'the later daemon');
    expect(latest.has('junk')).toBe(false);
    follower.stop();
  });
});
