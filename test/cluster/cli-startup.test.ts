/**
 * The built `meshos` loads only the command asked for: `version`, `help` and a mistyped command
 * load no package at all, and a client command (`kv`) loads grpc but none of the node's packages
 * (its logger, metrics, the etcd3 client `join` uses), and makes etcd's services from the
 * prebuilt descriptor without parsing any .proto text. Nor does a client command load the
 * node's own modules of src/kv or src/reconcile. NODE_DEBUG=module makes Node name each CommonJS
 * file it loads, which is how every dependency here is packaged; NODE_DEBUG=esm names each ES
 * module, which is how MeshOS's own dist/ is built.
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

/** MeshOS's folders only a node runs: the KV state machine and the reconciler. */
const NODE_ONLY_FOLDERS = ['dist/src/kv/', 'dist/src/reconcile/'];

/** The client commands whose modules once loaded those folders (role through the auth store). */
const CLIENT_COMMANDS = ['kv', 'blob', 'role', 'status'];

async function runWithModuleLog(
  args: readonly string[],
  modules: 'packages' | 'packages and own modules' = 'packages',
): Promise<{ code: number | null; output: string }> {
  const running = meshos(args, { NODE_DEBUG: modules === 'packages' ? 'module' : 'module,esm' });
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
    const { code, output } = await runWithModuleLog(
      ['kv', 'get', 'key', '--endpoints', endpoint],
      'packages and own modules',
    );
    expect(code).not.toBe(0);
    expect(output).toContain('UNAVAILABLE');
    expect(output).toContain('node_modules/protobufjs/');
    for (const parsing of PROTO_TEXT_MODULES) expect(output).not.toContain(parsing);
    expect(output).toContain('dist/src/client/');
    for (const nodeOnly of NODE_ONLY_FOLDERS) expect(output).not.toContain(nodeOnly);
  });

  it(
    "loads none of the node's KV or reconciler modules for a client command",
    async () => {
      for (const command of CLIENT_COMMANDS) {
        const { code, output } = await runWithModuleLog([command, '--help'], 'packages and own modules');
        expect(code, command).toBe(0);
        expect(output, command).toContain(`dist/src/cli/commands/${command}.js`);
        for (const nodeOnly of NODE_ONLY_FOLDERS) expect(output, command).not.toContain(nodeOnly);
      }
    },
    CLIENT_COMMANDS.length * COMMAND_TIMEOUT_MS,
  );
});
