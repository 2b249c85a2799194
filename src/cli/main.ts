#!/usr/bin/env node
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { CAPABILITIES } from './capabilities.js';

const USAGE = `usage: meshos <command> [options]

commands:
  start-local   run MeshOS on its embedded default (what \`npm start\` runs)
  capabilities  list what this build contains
  version       print the version
  help          show this text`;

function version(): string {
  const packageJson = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as {
    version: string;
  };
  return packageJson.version;
}

function printCapabilities(): void {
  const width = Math.max(...CAPABILITIES.map((capability) => capability.area.length));
  for (const capability of CAPABILITIES) {
    console.log(`  ${capability.area.padEnd(width)}  ${capability.status.padEnd(11)}  ${capability.summary}`);
  }
}

function startLocal(): number {
  console.log(`MeshOS ${version()}`);
  console.log('The local cluster needs the server layer, which is not built yet, so nothing is started.');
  console.log('This build contains:');
  printCapabilities();
  console.log('Run `npm test` to exercise what is built, `npm run bench` to measure it.');
  return 0;
}

function main(argv: readonly string[]): number {
  const { positionals } = parseArgs({ args: [...argv], allowPositionals: true, strict: false });
  const command = positionals[0] ?? 'help';
  switch (command) {
    case 'start-local':
      return startLocal();
    case 'capabilities':
      printCapabilities();
      return 0;
    case 'version':
      console.log(version());
      return 0;
    case 'help':
      console.log(USAGE);
      return 0;
    default:
      console.error(`meshos: unknown command '${command}'\n${USAGE}`);
      return 2;
  }
}

process.exitCode = main(process.argv.slice(2));
