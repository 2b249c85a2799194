import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DaemonModuleLoadError, MAX_DAEMON_MODULES } from '../../../src/daemons/index.js';
import { loadDaemonModule, loadKindCatalog } from '../../../src/daemons/node/index.js';
import { context, eventOf, texts } from './fixtures.js';

/** A kind written as a user would, in plain JavaScript with no MeshOS import. */
function kindSource(exportName: string, kindName: string): string {
  return `export const ${exportName} = {
  name: '${kindName}',
  create(config, context) {
    let count = 0;
    return {
      name: context.daemonName,
      process(event) { count += 1; return [new TextEncoder().encode('${kindName}:' + count)]; },
      snapshot() { return new TextEncoder().encode(String(count)); },
      restore(state) { count = Number(new TextDecoder().decode(state)); },
      health() { return { status: 'healthy' }; },
      saturation() { return 0; },
      onControl() {},
    };
  },
};
`;
}

let directory = '';

async function moduleFile(name: string, source: string): Promise<string> {
  const file = path.join(directory, name);
  await writeFile(file, source);
  return file;
}

async function loadFailure(run: () => Promise<unknown>): Promise<DaemonModuleLoadError> {
  try {
    await run();
  } catch (error) {
    expect(error).toBeInstanceOf(DaemonModuleLoadError);
    expect((error as DaemonModuleLoadError).code).toBe('DAEMON_MODULE_LOAD_FAILED');
    return error as DaemonModuleLoadError;
  }
  throw new Error('expected the load to fail');
}

beforeAll(async () => {
  directory = await mkdtemp(path.join(os.tmpdir(), 'meshos-daemon-modules-'));
});

afterAll(async () => {
  await rm(directory, { recursive: true, force: true });
});

describe('loading daemon modules', () => {
  it('makes every named kind-shaped export a kind, ignoring the default export and other exports', async () => {
    const file = await moduleFile(
      'two-kinds.mjs',
      `${kindSource('tally', 'tally')}${kindSource('other', 'other-kind')}
export const alias = tally;
export const version = '1.0';
export function helper() { return 1; }
export default { name: 'ignored-default', create() { throw new Error('never'); } };
`,
    );
    const kinds = await loadDaemonModule(file);
    expect(kinds.map((kind) => kind.name)).toEqual(['tally', 'other-kind']);

    const catalog = await loadKindCatalog([file]);
    expect(catalog.names()).toEqual(['counter', 'journal', 'other-kind', 'tally']);
    const daemon = catalog.get('tally').create(undefined, context('t1'));
    expect(daemon.name).toBe('t1');
    expect(texts(daemon.process(eventOf('x')) as Uint8Array[])).toEqual(['tally:1']);
  });

  it('gives the built-in kinds alone when no module is given', async () => {
    expect((await loadKindCatalog([])).names()).toEqual(['counter', 'journal']);
  });

  it('fails a module that is missing, does not parse or throws while loading, naming the path and cause', async () => {
    const missing = path.join(directory, 'missing.mjs');
    const error = await loadFailure(() => loadKindCatalog([missing]));
    expect(error.message).toContain(missing);
    expect(error.details.modulePath).toBe(missing);
    expect(error.cause).toBeInstanceOf(Error);

    const broken = await moduleFile('broken.mjs', 'export const = ;');
    expect((await loadFailure(() => loadDaemonModule(broken))).message).toMatch(
      /broken\.mjs: failed to load: /,
    );

    const throwing = await moduleFile('throwing.mjs', "throw new Error('top-level boom');");
    expect((await loadFailure(() => loadDaemonModule(throwing))).message).toContain('top-level boom');
  });

  it('fails a module that exports no kind', async () => {
    const file = await moduleFile(
      'no-kinds.mjs',
      "export const name = 'x'; export default { name: 'd', create() {} };",
    );
    expect((await loadFailure(() => loadDaemonModule(file))).message).toContain('exports no daemon kind');
  });

  it('fails a module whose kind has an invalid name, naming the export', async () => {
    const file = await moduleFile('bad-name.mjs', kindSource('spaced', 'has space'));
    expect((await loadFailure(() => loadDaemonModule(file))).message).toMatch(
      /invalid kind: export spaced\.kind\.name must be/,
    );
  });

  it('fails a kind whose name a built-in or an earlier module already has', async () => {
    const shadow = await moduleFile('shadow.mjs', kindSource('counter', 'counter'));
    expect((await loadFailure(() => loadKindCatalog([shadow]))).message).toBe(
      `daemon module ${shadow}: kind 'counter' clashes with a built-in kind of that name`,
    );
    const first = await moduleFile('first.mjs', kindSource('same', 'same'));
    const second = await moduleFile('second.mjs', kindSource('same', 'same'));
    expect((await loadFailure(() => loadKindCatalog([first, second]))).message).toBe(
      `daemon module ${second}: kind 'same' clashes with the kind of ${first} of that name`,
    );
  });

  it(`refuses more than ${MAX_DAEMON_MODULES} modules`, async () => {
    const file = await moduleFile('one.mjs', kindSource('one', 'one'));
    const error = await loadFailure(() => loadKindCatalog(new Array(MAX_DAEMON_MODULES + 1).fill(file)));
    expect(error.message).toContain(`more than the limit of ${MAX_DAEMON_MODULES}`);
  });
});
