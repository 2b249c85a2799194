import { readdirSync } from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { runScript } from './script.js';

const directory = path.join(path.dirname(fileURLToPath(import.meta.url)), 'scripts');

describe('interaction scripts (expected trace beside each command)', () => {
  for (const file of readdirSync(directory).filter((name) => name.endsWith('.txt'))) {
    it(file, () => {
      const { expected, actual } = runScript(path.join(directory, file));
      expect(actual).toBe(expected);
    });
  }
});
