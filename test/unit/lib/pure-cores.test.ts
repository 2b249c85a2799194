import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';

/**
 * The pure cores take their clock, randomness and IO as parameters (ARCHITECTURE.md, rule 1):
 * loading them must not load Node's file system, network, processes or logger. This walks the
 * runtime import graph (type-only imports are erased by the compiler) from each core's index.
 */
const PURE_ENTRY_POINTS = [
  'src/lib/index.ts',
  'src/raft/index.ts',
  'src/kv/index.ts',
  'src/supervisor/index.ts',
  'src/compute/index.ts',
  'src/reconcile/index.ts',
];

const IO_MODULES = new Set([
  'node:fs',
  'node:fs/promises',
  'node:net',
  'node:tls',
  'node:http',
  'node:http2',
  'node:https',
  'node:dgram',
  'node:child_process',
  'node:worker_threads',
  'pino',
  '@grpc/grpc-js',
]);

const RUNTIME_IMPORT = /^\s*(?:import|export)\s+(?!type\b)(?:[^'"]*?\sfrom\s+)?['"]([^'"]+)['"]/gm;

function runtimeImports(file: string): string[] {
  const source = readFileSync(file, 'utf8');
  return [...source.matchAll(RUNTIME_IMPORT)].map((match) => match[1] as string);
}

/** Every bare module reachable from `entry` through runtime imports, with the file importing it. */
function reachableModules(entry: string): Map<string, string> {
  const seen = new Set<string>();
  const modules = new Map<string, string>();
  const pending = [path.resolve(entry)];
  while (pending.length > 0) {
    const file = pending.pop() as string;
    if (seen.has(file)) continue;
    seen.add(file);
    for (const specifier of runtimeImports(file)) {
      if (specifier.startsWith('.')) {
        pending.push(path.resolve(path.dirname(file), specifier.replace(/\.js$/, '.ts')));
      } else if (!modules.has(specifier)) {
        modules.set(specifier, path.relative(process.cwd(), file));
      }
    }
  }
  return modules;
}

describe('pure cores', () => {
  for (const entry of PURE_ENTRY_POINTS) {
    it(`${entry} loads no IO module`, () => {
      const offending = [...reachableModules(entry)].filter(([specifier]) => IO_MODULES.has(specifier));
      expect(offending).toEqual([]);
    });
  }

  it('the walk sees through re-exports (Node IO is found from lib/node)', () => {
    const modules = reachableModules('src/lib/node/index.ts');
    expect(modules.has('node:fs')).toBe(true);
    expect(modules.has('node:net')).toBe(true);
    expect(modules.has('pino')).toBe(true);
  });
});
