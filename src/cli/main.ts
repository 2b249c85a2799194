#!/usr/bin/env node
import { readFileSync } from 'node:fs';
import { CAPABILITIES } from './capabilities.js';
import { commandFailure } from './command-failure.js';
import { COMMAND_LOADERS, MESHOS_USAGE } from './command-table.js';
import type { CommandIo } from './commands/common.js';
import { UsageError } from './commands/usage-error.js';
import {
  DEBUG_HANDLES_ENVIRONMENT_VARIABLE,
  describeLingeringHandles,
  EXIT_AFTER_RETURN_MS,
  EXIT_GUARD_MESSAGE,
  trackHandlesWhenAsked,
} from './lingering-handles.js';

function version(): string {
  const packageJson = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as {
    version: string;
  };
  return packageJson.version;
}

function printCapabilities(io: CommandIo): void {
  const width = Math.max(...CAPABILITIES.map((capability) => capability.area.length));
  for (const capability of CAPABILITIES) {
    io.out(`  ${capability.area.padEnd(width)}  ${capability.status.padEnd(11)}  ${capability.summary}`);
  }
}

/** Parses argv, then loads only the command asked for (src/cli/command-table.ts). */
async function main(argv: readonly string[], io: CommandIo): Promise<number> {
  const [command = 'help', ...rest] = argv;
  const loadCommand = COMMAND_LOADERS.get(command);
  if (rest.includes('--help')) {
    io.out(loadCommand === undefined ? MESHOS_USAGE : (await loadCommand()).usage);
    return 0;
  }
  if (loadCommand !== undefined) return (await loadCommand()).run(rest, io);
  switch (command) {
    case 'capabilities':
      printCapabilities(io);
      return 0;
    case 'version':
    case '--version':
      io.out(version());
      return 0;
    case 'help':
      io.out(MESHOS_USAGE);
      return 0;
    default:
      throw new UsageError(`unknown command '${command}'\n${MESHOS_USAGE}`);
  }
}

/**
 * grpc-js hands Node an IP endpoint as the TLS server name, which Node answers with a deprecation
 * warning (DEP0123) on the first TLS call to an address such as 127.0.0.1: nothing the command's
 * user can act on, so the CLI leaves it out; every other warning is printed as before.
 */
function leaveOutIpServerNameWarning(): void {
  const emitWarning = process.emitWarning.bind(process) as (...args: unknown[]) => void;
  process.emitWarning = ((...args: unknown[]) => {
    const [, typeOrOptions, code] = args;
    const given = typeof typeOrOptions === 'object' ? (typeOrOptions as { code?: unknown }).code : code;
    if (given === 'DEP0123') return;
    emitWarning(...args);
  }) as typeof process.emitWarning;
}

trackHandlesWhenAsked();
leaveOutIpServerNameWarning();
const io: CommandIo = { out: (line) => console.log(line), err: (line) => console.error(line) };
try {
  process.exitCode = await main(process.argv.slice(2), io);
} catch (error) {
  const failure = commandFailure(error);
  io.err(failure.message);
  process.exitCode = failure.exitCode;
}

if (process.env[DEBUG_HANDLES_ENVIRONMENT_VARIABLE] === '1') {
  // What is left the moment the command returned, then each second: what ends late, and when.
  setImmediate(() => io.err(`meshos: the command ended; still open: ${describeLingeringHandles()}`));
  setInterval(() => io.err(`meshos: still open: ${describeLingeringHandles()}`), 1_000).unref();
  const endedAtMs = performance.now();
  process.once('exit', () =>
    io.err(`meshos: exiting ${Math.round(performance.now() - endedAtMs)} ms after the command ended`),
  );
}

/**
 * A command that has returned has finished its work (a node has said "stopped" after closing its
 * parts). If something still holds the event loop this long after, name it on stderr, so the leak
 * can be found, and exit rather than linger as a process that looks alive. Unref'd: a process
 * whose loop drains exits before it fires.
 */
setTimeout(() => {
  io.err(`${EXIT_GUARD_MESSAGE}, held by: ${describeLingeringHandles()}; exiting`);
  process.exit();
}, EXIT_AFTER_RETURN_MS).unref();
