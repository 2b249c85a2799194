/**
 * The inputs the fuzzers found crashing a decoder, shrunk by fast-check, each held here with the
 * typed error its decoder now throws (docs/SECURITY.md, "Fuzzed decoders").
 */
import type * as grpc from '@grpc/grpc-js';
import { describe, expect, it } from 'vitest';
import { HeaderMetadata } from '../../src/api/grpc-server/request-metadata.js';
import { chainsPortService } from '../../src/api/index.js';
import { UsageError } from '../../src/cli/commands/common.js';
import { joinSettingsFromArguments } from '../../src/cli/join-command.js';
import { startPlanFromArguments } from '../../src/cli/node-commands.js';
import { utf8 } from '../../src/kv/index.js';
import { isMeshError, MemoryDisk } from '../../src/lib/index.js';
import { silentLogger } from '../../src/lib/node/index.js';
import { loadOrCreateIdentity } from '../../src/mesh/index.js';
import { ERROR_CODE_TRAILER, ERROR_DETAILS_TRAILER } from '../../src/protocol/index.js';
import { decodeClusterConfig, decodeNodeCommand, NodeStateMachine } from '../../src/server/index.js';
import { FakeChainsBackend } from '../support/fake-chains-backend.js';
import { runFedTask } from './targets/state-targets.js';

function thrownBy(run: () => void): unknown {
  try {
    run();
  } catch (error) {
    return error;
  }
  throw new Error('expected a throw');
}

const text = (value: string): number[] => [...new TextEncoder().encode(value)];

describe('decoder crashes found by fuzzing', () => {
  it('a member-change log entry whose JSON is damaged is BAD_COMMAND, not a SyntaxError', () => {
    const entry = Uint8Array.from([3, 255, 255, 255, 255, ...text('pe":"removeMember","id":210}')]);
    const error = thrownBy(() => decodeNodeCommand(entry));
    expect(isMeshError(error, 'BAD_COMMAND')).toBe(true);
    // JSON of the wrong shape too: null, a member without its URLs.
    for (const body of [
      'null',
      '{"type":"setMember","member":{"id":4,"name":"n"}}',
      '{"type":"removeMember"}',
    ]) {
      expect(
        isMeshError(
          thrownBy(() => decodeNodeCommand(Uint8Array.from([3, ...text(body)]))),
          'BAD_COMMAND',
        ),
      ).toBe(true);
    }
  });

  it("a snapshot's cluster configuration that is not JSON is SNAPSHOT_CORRUPT, not a SyntaxError", () => {
    const config = Uint8Array.from([
      255,
      255,
      255,
      255,
      ...text('ters":[],"learners":[],"outgoingVoters":[]}'),
    ]);
    expect(
      isMeshError(
        thrownBy(() => decodeClusterConfig(config)),
        'SNAPSHOT_CORRUPT',
      ),
    ).toBe(true);
    expect(
      isMeshError(
        thrownBy(() => decodeClusterConfig(Uint8Array.from(text('null')))),
        'SNAPSHOT_CORRUPT',
      ),
    ).toBe(true);
  });

  it('a node snapshot with a damaged member directory is SNAPSHOT_CORRUPT and leaves the state as it was', () => {
    // Header (16 B key-value section, 3 B sessions, 27 B members), an empty key-value store, no
    // sessions, and a member directory with one byte flipped ('{' to 'z').
    const snapshot = Uint8Array.from([
      77,
      83,
      78,
      49,
      0,
      0,
      0,
      16,
      0,
      0,
      0,
      3,
      0,
      0,
      0,
      27,
      77,
      75,
      86,
      83,
      2,
      0,
      1,
      0,
      1,
      0,
      0,
      0,
      238,
      96,
      214,
      219,
      1,
      0,
      0,
      ...text('z"members":[],"removed":[]}'),
    ]);
    const machine = new NodeStateMachine();
    machine.kv.applyCommand(1, { type: 'put', key: utf8('kept'), value: utf8('value') });
    machine.members.set({ id: 7, name: 'seven', peerUrls: [], clientUrls: [] });
    const error = thrownBy(() => runFedTask(machine.startRestoreFrom(snapshot.byteLength), [snapshot]));
    expect(isMeshError(error, 'SNAPSHOT_CORRUPT')).toBe(true);
    // Nothing was swapped in: the key-value store and the members are the ones from before.
    expect(machine.kv.range({ type: 'range', key: utf8('kept') }).kvs).toHaveLength(1);
    expect(machine.members.get(7)?.name).toBe('seven');
  });

  it('a node snapshot of 16 bytes with the version 2 magic is SNAPSHOT_CORRUPT, not an assertion', () => {
    // "MSN2" wants a 20-byte header; the file ends after 16, so no header was ever read.
    const snapshot = Uint8Array.from([77, 83, 78, 50, 0, 0, 0, 16, 0, 0, 0, 3, 0, 0, 0, 27]);
    const machine = new NodeStateMachine();
    const error = thrownBy(() => runFedTask(machine.startRestoreFrom(snapshot.byteLength), [snapshot]));
    expect(isMeshError(error, 'SNAPSHOT_CORRUPT')).toBe(true);
  });

  it('a Chains request naming a chain with non-ASCII characters is answered with its typed error, not left hanging', async () => {
    // The error's details went into a trailer as raw JSON; grpc-js refuses a metadata value that is
    // not printable ASCII, so building the status threw inside the call's promise: no answer, and
    // an unhandled rejection (which ends a Node process).
    const name = 'x\u0010\u00e9\u{1f600}';
    const port = chainsPortService(new FakeChainsBackend(), silentLogger);
    const status = port.implementation.Status as grpc.handleUnaryCall<unknown, unknown>;
    const answer = await new Promise<grpc.ServiceError>((resolve, reject) => {
      const noAnswer = setTimeout(() => reject(new Error('no answer in 5 s')), 5_000);
      const call = {
        request: { name },
        metadata: new HeaderMetadata({}),
        getDeadline: () => Number.POSITIVE_INFINITY,
      };
      status(call as never, (error) => {
        clearTimeout(noAnswer);
        resolve(error as grpc.ServiceError);
      });
    });
    expect(answer.metadata.get(ERROR_CODE_TRAILER)).toEqual(['CHAIN_NOT_FOUND']);
    const details = answer.metadata.get(ERROR_DETAILS_TRAILER)[0] as string;
    expect(details).toMatch(/^[\x20-\x7e]*$/);
    expect(JSON.parse(details)).toMatchObject({ name });
  });

  it('a start or join flag without its value, a value for a switch or a stray word is a usage error, not a TypeError', () => {
    // node:util's parseArgs reports these as TypeErrors (ERR_PARSE_ARGS_*); the CLI printed them
    // as failures (exit 1) instead of usage errors (exit 2) for all but an unknown flag.
    const voter = ['--id', '2', '--data', 'd', '--peers', '1=127.0.0.1:7001,2=127.0.0.1:7002', '--insecure'];
    for (const argv of [['--id'], [...voter, '--insecure=yes'], [...voter, 'stray'], [...voter, '--data']]) {
      expect(thrownBy(() => startPlanFromArguments(argv))).toBeInstanceOf(UsageError);
    }
    const join = ['--via', '127.0.0.1:2379', '--data', 'j', '--peer-listen', '127.0.0.1:7200', '--insecure'];
    expect(thrownBy(() => joinSettingsFromArguments([...join, '--no-promote=1']))).toBeInstanceOf(UsageError);
  });

  it('meshos join refuses a bad --client-listen before it asks the cluster to add a member', () => {
    // The address was parsed after MemberAdd, leaving a learner in the cluster that never started.
    const join = ['--via', '127.0.0.1:2379', '--data', 'j', '--peer-listen', '127.0.0.1:7200', '--insecure'];
    const error = thrownBy(() => joinSettingsFromArguments([...join, '--client-listen', 'host:']));
    expect(isMeshError(error)).toBe(true);
  });

  it('a damaged node identity file is IDENTITY_CORRUPT, not a SyntaxError or TypeError', async () => {
    const given = { id: 2, name: 'n2', clusterId: 'c', initialPeers: [], role: 'voter' as const };
    for (const stored of [
      '{"id":2,"name":"n2","clusterId":"c","initialPe',
      'null',
      '{"id":2,"name":"n2","clusterId":"c","initialPeers":[[1,null]]}',
    ]) {
      const disk = new MemoryDisk();
      await disk.makeDirectory('/data');
      const file = await disk.open('/data/node.json', 'create');
      await file.append(new TextEncoder().encode(stored));
      const error = await loadOrCreateIdentity(disk, '/data', given).then(
        () => new Error('expected a refusal'),
        (refusal: unknown) => refusal,
      );
      expect(isMeshError(error, 'IDENTITY_CORRUPT')).toBe(true);
    }
  });
});
