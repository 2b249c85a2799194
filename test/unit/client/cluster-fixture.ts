/** Single-process etcd API servers on 127.0.0.1 for client tests. */
import { type EtcdApiServer, startEtcdApiServer } from '../../../src/api/index.js';
import { type NodeId, SystemClock } from '../../../src/lib/index.js';
import { LocalKvBackend } from '../../support/local-kv-backend.js';

export interface TestNode {
  readonly backend: LocalKvBackend;
  readonly server: EtcdApiServer;
  readonly address: string;
  stop(): Promise<void>;
}

export async function startTestNode(options: { memberId?: NodeId } = {}): Promise<TestNode> {
  const backend = new LocalKvBackend({
    clock: new SystemClock(),
    ...(options.memberId === undefined ? {} : { memberId: options.memberId }),
  });
  const server = await startEtcdApiServer({ address: '127.0.0.1:0', backend });
  let stopped = false;
  return {
    backend,
    server,
    address: server.address,
    async stop() {
      if (stopped) return;
      stopped = true;
      await server.close();
      backend.close();
    },
  };
}
