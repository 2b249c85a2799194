/**
 * The built `meshos` loads only the command asked for: `version`, `help` and a mistyped command
 * load no package at all, and a client command (`kv`) loads grpc but none of the node's packages
 * (its logger, metrics, the etcd3 client `join` uses), and makes etcd's services from the
 * prebuilt descriptor without parsing any .proto text. NODE_DEBUG=module makes Node name each
 * CommonJS file it loads, which is how every dependency here is packaged.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { findFreeLoopbackPort } from '../../src/lib/node/index.js';
import { exitCode, meshos } from './meshos-process.js';

/** A command that loads nothing beyond Node ends well within this, even on a loaded machine. */
const COMMAND_TIMEOUT_MS = 30_000;

/** Packages only a running node (or `join`) uses. */
const NODE_ONLY_PACKAGES = ['node_modules/pino/', 'node_modules/prom-client/', 'node_modules/etcd3/'];

/** What parsing .proto text loads: proto-loader, and protobufjs's parser (its light build has none). */
const PROTO_TEXT_MODULES = ['node_modules/@grpc/proto-loader/', 'node_modules/protobufjs/src/parse.js'];

async function runWithModuleLog(args: readonly string[]): Promise<{ code: number | null; output: string }> {
  const running = meshos(args, { NODE_DEBUG: 'module' });
  const code = await exitCode(running, COMMAND_TIMEOUT_MS);
  return { code, output: running.output() };
}

describe('meshos start-up', () => {
  it('prints the version without loading any package', async () => {
    const { version } = JSON.parse(readFileSync('package.json', 'utf8')) as { version: string };
    for (const args of [['version'], ['--version']]) {
      const { code, output } = await runWithModuleLog(args);
      expect(code, args.join(' ')).toBe(0);
      expect(output.split('\n')).toContain(version);
      expect(output).not.toContain('node_modules/');
    }
  });

  it('prints the help text, or refuses an unknown command with it, without loading any package', async () => {
    const help = await runWithModuleLog(['help']);
    expect(help.code).toBe(0);
    expect(help.output).toContain('usage: meshos <command> [options]');
    expect(help.output).not.toContain('node_modules/');
    const unknown = await runWithModuleLog(['nonesuch']);
    expect(unknown.code).toBe(2);
    expect(unknown.output).toContain("meshos: unknown command 'nonesuch'");
    expect(unknown.output).not.toContain('node_modules/');
  });

  it("loads a client command's grpc but none of the node's packages", async () => {
    const { code, output } = await runWithModuleLog(['kv', '--help']);
    expect(code).toBe(0);
    expect(output).toContain('meshos kv get KEY');
    expect(output).toContain('node_modules/@grpc/grpc-js/');
    for (const nodeOnly of NODE_ONLY_PACKAGES) expect(output).not.toContain(nodeOnly);
  });

  it("makes etcd's services for a call from the prebuilt descriptor, parsing no .proto text", async () => {
    // Nothing listens on a free port: the call is refused, after the client made its services.
    const endpoint = `127.0.0.1:${await findFreeLoopbackPort()}`;
    const { code, output } = await runWithModuleLog(['kv', 'get', 'key', '--endpoints', endpoint]);
    expect(code).not.toBe(0);
    expect(output).toContain('UNAVAILABLE');
    expect(output).toContain('node_modules/protobufjs/');
    for (const parsing of PROTO_TEXT_MODULES) expect(output).not.toContain(parsing);
  });
});
