import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { nodeConfigFromArguments, UsageError } from '../../../src/cli/node-commands.js';

const BASE = ['--id', '2', '--data', 'd2', '--peers', '1=127.0.0.1:7001,2=127.0.0.1:7002', '--insecure'];

describe('meshos start arguments', () => {
  it('builds the node configuration, writing the log inline unless asked otherwise', () => {
    const config = nodeConfigFromArguments(BASE);
    expect(config.id).toBe(2);
    expect(config.name).toBe('n2');
    expect(config.dataDirectory).toBe(path.resolve('d2'));
    expect(config.peerAddress).toEqual({ host: '127.0.0.1', port: 7002 });
    expect(config.initialPeers.size).toBe(2);
    expect(config.walOnThreadPool).toBeUndefined();
  });

  it('moves log writes to the thread pool with --wal-thread-pool', () => {
    expect(nodeConfigFromArguments([...BASE, '--wal-thread-pool']).walOnThreadPool).toBe(true);
  });

  it('refuses missing or malformed arguments with a usage error', () => {
    expect(() => nodeConfigFromArguments(BASE.filter((argument) => argument !== '--insecure'))).toThrow(
      UsageError,
    );
    expect(() => nodeConfigFromArguments(['--id', 'x', ...BASE.slice(2)])).toThrow(
      '--id must be a positive integer',
    );
    expect(() => nodeConfigFromArguments([...BASE, '--no-such-flag'])).toThrow();
  });
});
