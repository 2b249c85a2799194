/**
 * Discovery at connect on a slow machine: a node whose first Status answer comes after the
 * discovery round's budget (DISCOVERY_TIMEOUT_MS) is still found as the leader by `connect`, which
 * goes on while its own deadline allows; a refused endpoint ends discovery at once.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { MeshClient } from '../../../src/client/index.js';
import { DISCOVERY_TIMEOUT_MS } from '../../../src/client/limits.js';
import { findFreeLoopbackPort } from '../../../src/lib/node/index.js';
import { startTestNode, type TestNode } from './cluster-fixture.js';

describe('MeshClient.connect discovery', () => {
  let node: TestNode | undefined;
  let client: MeshClient | undefined;
  afterEach(async () => {
    client?.close();
    client = undefined;
    await node?.stop();
    node = undefined;
  });

  it('finds the leader when the first Status round runs out of time', async () => {
    node = await startTestNode();
    const backend = node.backend;
    const status = backend.status.bind(backend);
    let statusCalls = 0;
    backend.status = async () => {
      statusCalls += 1;
      // The first answer misses the round's budget, as on a machine too busy for it.
      if (statusCalls === 1) await new Promise((resolve) => setTimeout(resolve, DISCOVERY_TIMEOUT_MS + 300));
      return status();
    };
    client = await MeshClient.connect({ endpoints: [node.address], timeoutMs: 4 * DISCOVERY_TIMEOUT_MS });
    expect(statusCalls).toBeGreaterThanOrEqual(2);
    expect(client.endpoints.leader).toBe(node.address);
  });

  it('does not wait for its deadline when the endpoint refuses connections', async () => {
    const port = await findFreeLoopbackPort();
    const timeoutMs = 20 * DISCOVERY_TIMEOUT_MS;
    const startedAt = Date.now();
    client = await MeshClient.connect({ endpoints: [`127.0.0.1:${port}`], timeoutMs });
    expect(client.endpoints.leader).toBeUndefined();
    // Well under the deadline: a refusal is no reason to try again.
    expect(Date.now() - startedAt).toBeLessThan(timeoutMs / 2);
  });
});
