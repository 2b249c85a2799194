import { describe, expect, it } from 'vitest';
import { call, rawClients, startLocalEtcd } from '../../support/etcd-harness.js';

describe('closing the client port with a keepalive stream open', () => {
  it('ends the stream with OK (its client resumes elsewhere) instead of leaving it to the forced shutdown', async () => {
    const etcd = await startLocalEtcd();
    const clients = rawClients(etcd.server.address);
    try {
      const granted = await call<{ ID: string }>(clients.lease, 'LeaseGrant', { TTL: 60, ID: 0 });
      const stream = clients.lease.LeaseKeepAlive();
      const answered = new Promise<{ ID: string; TTL: string }>((resolve) => stream.once('data', resolve));
      stream.write({ ID: granted.ID });
      expect((await answered).ID).toBe(granted.ID);
      const status = new Promise<{ code: number }>((resolve) => stream.on('status', resolve));
      stream.on('error', () => {});
      await etcd.close();
      // 0 is OK; the forced shutdown would cut the stream with CANCELLED or UNAVAILABLE.
      expect((await status).code).toBe(0);
    } finally {
      clients.close();
    }
  });
});
