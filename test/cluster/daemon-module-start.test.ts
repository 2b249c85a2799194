/**
 * `meshos start --daemon-module PATH` with real processes: a node given a module that fails to
 * load says so and exits with EXIT_DAEMON_MODULE_FAILED before it starts anything; a node given
 * a valid module starts.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { EXIT_DAEMON_MODULE_FAILED } from '../../src/cli/node-commands.js';
import {
  exitCode,
  killAll,
  meshos,
  type Running,
  singleNodeStartArguments,
  UP_TIMEOUT_MS,
  waitForOutput,
} from './meshos-process.js';

const VALID_MODULE = `export const echo = {
  name: 'echo',
  create(config, context) {
    return {
      name: context.daemonName,
      process(event) { return [event.payload]; },
      health() { return { status: 'healthy' }; },
      saturation() { return 0; },
      onControl() {},
    };
  },
};
`;

describe('meshos start --daemon-module', () => {
  const roots: string[] = [];
  const started: Running[] = [];
  afterAll(async () => {
    await killAll(started);
    await Promise.all(roots.map((directory) => rm(directory, { recursive: true, force: true })));
  });

  async function root(): Promise<string> {
    const directory = await mkdtemp(path.join(os.tmpdir(), 'meshos-daemon-module-'));
    roots.push(directory);
    return directory;
  }

  it('refuses to start when a module fails to load, naming the module and the cause', async () => {
    const directory = await root();
    const valid = path.join(directory, 'echo.mjs');
    const broken = path.join(directory, 'broken.mjs');
    await writeFile(valid, VALID_MODULE);
    await writeFile(broken, "throw new Error('module boom');");
    const data = path.join(directory, 'n1');
    const node = meshos([
      ...(await singleNodeStartArguments(data)),
      '--daemon-module',
      valid,
      '--daemon-module',
      broken,
    ]);
    started.push(node);
    expect(await exitCode(node, UP_TIMEOUT_MS)).toBe(EXIT_DAEMON_MODULE_FAILED);
    expect(node.output()).toContain(
      `meshos: the node does not start: daemon module ${broken}: failed to load: module boom`,
    );
    expect(existsSync(data)).toBe(false);
  });

  it('starts with a valid module', async () => {
    const directory = await root();
    const valid = path.join(directory, 'echo.mjs');
    await writeFile(valid, VALID_MODULE);
    const node = meshos([
      ...(await singleNodeStartArguments(path.join(directory, 'n1'))),
      '--daemon-module',
      valid,
    ]);
    started.push(node);
    await waitForOutput(node, /node 1 \(n1\) up: client/, UP_TIMEOUT_MS);
  });
});
