import { readdirSync } from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { type BenchSuite, runSuite } from './harness.js';

/**
 * Runs every `*.bench.js` suite next to this file (compiled from bench/*.bench.ts), or
 * only those whose file name contains one of the words given on the command line.
 */
async function main(): Promise<void> {
  const directory = path.dirname(fileURLToPath(import.meta.url));
  const filters = process.argv.slice(2).filter((word) => !word.startsWith('-'));
  const files = readdirSync(directory)
    .filter((name) => name.endsWith('.bench.js'))
    .filter((name) => filters.length === 0 || filters.some((word) => name.includes(word)))
    .sort();
  if (files.length === 0) {
    console.error(`no benchmark matches ${filters.join(', ') || '(all)'}`);
    process.exitCode = 1;
    return;
  }
  for (const file of files) {
    const module = (await import(pathToFileURL(path.join(directory, file)).href)) as { suite?: BenchSuite };
    if (module.suite === undefined) throw new Error(`${file} does not export a 'suite'`);
    await runSuite(module.suite);
  }
  console.log('\nresults appended to bench/results/results.jsonl');
}

await main();
