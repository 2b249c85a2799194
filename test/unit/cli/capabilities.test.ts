import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { CAPABILITIES } from '../../../src/cli/capabilities.js';

/** The README's "What is built" table rows as [area, status]. */
function readmeRows(): Array<[string, string]> {
  const readme = readFileSync('README.md', 'utf8');
  const section = readme.slice(readme.indexOf('## What is built'));
  const rows: Array<[string, string]> = [];
  for (const line of section.split('\n')) {
    const cells = line.split('|').map((cell) => cell.trim());
    if (cells.length < 4 || cells[1] === 'area' || cells[1]?.startsWith('---')) continue;
    rows.push([cells[1] as string, cells[2] as string]);
  }
  return rows;
}

describe('meshos capabilities', () => {
  it('lists the same areas with the same status as the README table', () => {
    const listed = CAPABILITIES.map((capability): [string, string] => [capability.area, capability.status]);
    expect(readmeRows()).toEqual(listed);
  });

  it('calls a library that no node runs a part, not running', () => {
    for (const capability of CAPABILITIES.filter((entry) => entry.status === 'part')) {
      expect(capability.summary).toMatch(/no node runs/);
    }
  });
});
