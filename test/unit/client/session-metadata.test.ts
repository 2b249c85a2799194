import * as grpc from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLIENT_ID_HEADER, MeshClient, op, SEQUENCE_HEADER } from '../../../src/client/index.js';
import { startTestNode, type TestNode } from './cluster-fixture.js';

interface Sent {
  readonly method: string;
  readonly session: string | undefined;
}

describe('session metadata on the wire', () => {
  let node: TestNode;
  let client: MeshClient;
  const sent: Sent[] = [];

  /** Records each call's method and session headers as they leave the client. */
  const recorder: grpc.Interceptor = (options, nextCall) =>
    new grpc.InterceptingCall(nextCall(options), {
      start(metadata, listener, next) {
        const clientId = metadata.get(CLIENT_ID_HEADER)[0];
        const sequence = metadata.get(SEQUENCE_HEADER)[0];
        sent.push({
          method: options.method_definition.path.split('/').pop() ?? '',
          session: clientId === undefined ? undefined : `${String(clientId)}#${String(sequence)}`,
        });
        next(metadata, listener);
      },
    });

  beforeAll(async () => {
    node = await startTestNode();
    client = await MeshClient.connect({
      endpoints: [node.address],
      clientId: 'wire',
      interceptors: [recorder],
    });
  });

  afterAll(async () => {
    client.close();
    await node.stop();
  });

  it('tags every write with the client id and the next sequence, and no read', async () => {
    sent.length = 0;
    const put = await client.put('k', 'v');
    await client.get('k');
    await client.txn({ compare: [], success: [op.put('k', 'w')], failure: [] });
    await client.delete('k');
    const lease = await client.leaseGrant(30);
    await client.leaseTimeToLive(lease.id);
    await client.leaseRevoke(lease.id);
    await client.compact(put.header.revision);
    await client.members();
    expect(sent).toEqual([
      { method: 'Put', session: 'wire#1' },
      { method: 'Range', session: undefined },
      { method: 'Txn', session: 'wire#2' },
      { method: 'DeleteRange', session: 'wire#3' },
      { method: 'LeaseGrant', session: 'wire#4' },
      { method: 'LeaseTimeToLive', session: undefined },
      { method: 'LeaseRevoke', session: 'wire#5' },
      { method: 'Compact', session: 'wire#6' },
      { method: 'MemberList', session: undefined },
    ]);
  });
});
