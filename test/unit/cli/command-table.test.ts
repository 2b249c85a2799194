/**
 * `meshos`'s command table: the commands the help text lists are the commands it can load, and
 * each loaded command brings its own usage text (what `meshos COMMAND --help` prints) and runner.
 */
import { describe, expect, it } from 'vitest';
import { COMMAND_LOADERS, MESHOS_USAGE } from '../../../src/cli/command-table.js';

/**
 * Loading every command loads nearly the whole source tree through vitest's transform: 17 s on a
 * 2-core machine at load average 5, so more than the default 30 s when it is busier.
 */
const LOAD_EVERY_COMMAND_TIMEOUT_MS = 120_000;

/** Commands main.ts answers itself: nothing to load for them. */
const ANSWERED_BY_MAIN = ['capabilities', 'version', 'help'];

/** The first word of each line under "commands:" in the help text. */
function commandsNamedInUsage(): string[] {
  const lines = MESHOS_USAGE.split('\n');
  return lines
    .slice(lines.indexOf('commands:') + 1)
    .map((line) => line.trim().split(/\s+/)[0] ?? '')
    .filter((name) => name.length > 0);
}

describe('the command table', () => {
  it('loads every command the help text lists, and lists every command it loads', () => {
    const named = commandsNamedInUsage();
    expect(named.length).toBeGreaterThan(ANSWERED_BY_MAIN.length);
    expect(named.filter((name) => !ANSWERED_BY_MAIN.includes(name)).sort()).toEqual(
      [...COMMAND_LOADERS.keys()].sort(),
    );
  });

  it(
    'gives each command, once loaded, a usage text naming it and a runner',
    async () => {
      for (const [name, load] of COMMAND_LOADERS) {
        const command = await load();
        expect(command.usage, name).toContain(`meshos ${name}`);
        expect(typeof command.run, name).toBe('function');
      }
    },
    LOAD_EVERY_COMMAND_TIMEOUT_MS,
  );
});
