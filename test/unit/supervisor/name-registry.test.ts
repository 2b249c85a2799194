import { describe, expect, it } from 'vitest';
import { MAX_NAME_WAITERS_PER_NAME, NameRegistry, NameTakenError } from '../../../src/supervisor/index.js';

describe('NameRegistry', () => {
  it('grants a free name and releases it only for the current lease', async () => {
    const registry = new NameRegistry();
    const lease = await registry.acquire('dns', 'root/a', 'fail');
    expect(registry.publish(lease, '10.0.0.1')).toBe(true);
    expect(registry.lookup('dns')).toBe('10.0.0.1');
    expect(registry.release({ ...lease, token: lease.token + 100 })).toBe(false);
    expect(registry.release(lease)).toBe(true);
    expect(registry.release(lease)).toBe(false);
    expect(registry.holderOf('dns')).toBeUndefined();
  });

  it('fail refuses a taken name with a typed error naming the holder', async () => {
    const registry = new NameRegistry();
    await registry.acquire('dns', 'root/a', 'fail');
    const error = await registry.acquire('dns', 'root/b', 'fail').catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(NameTakenError);
    expect((error as NameTakenError).holder).toBe('root/a');
  });

  it('replace revokes the old lease, which can no longer publish or release', async () => {
    const registry = new NameRegistry();
    const revoked: string[] = [];
    const old = await registry.acquire('dns', 'root/a', 'fail', {
      onRevoked: (reason) => revoked.push(reason),
    });
    const fresh = await registry.acquire('dns', 'root/b', 'replace');
    expect(revoked).toEqual(["name 'dns' taken over by 'root/b'"]);
    expect(registry.publish(old, 'stale')).toBe(false);
    expect(registry.release(old)).toBe(false);
    expect(registry.holderOf('dns')).toBe('root/b');
    expect(registry.isCurrent(fresh)).toBe(true);
  });

  it('wait queues in order and hands the name over on release', async () => {
    const registry = new NameRegistry();
    const first = await registry.acquire('dns', 'a', 'fail');
    const second = registry.acquire('dns', 'b', 'wait');
    const third = registry.acquire('dns', 'c', 'wait');
    expect(registry.waiterCount('dns')).toBe(2);
    registry.release(first);
    const secondLease = await second;
    expect(secondLease.holder).toBe('b');
    registry.release(secondLease);
    expect((await third).holder).toBe('c');
  });

  it('wait gives up when its signal aborts, and the queue is bounded', async () => {
    const registry = new NameRegistry();
    await registry.acquire('dns', 'a', 'fail');
    const controller = new AbortController();
    const waiting = registry.acquire('dns', 'b', 'wait', { signal: controller.signal });
    controller.abort();
    await expect(waiting).rejects.toThrow('gave up waiting');
    expect(registry.waiterCount('dns')).toBe(0);

    for (let index = 0; index < MAX_NAME_WAITERS_PER_NAME; index++) {
      void registry.acquire('dns', `w${index}`, 'wait');
    }
    await expect(registry.acquire('dns', 'one-too-many', 'wait')).rejects.toThrow('already wait');
    expect(registry.waiterCount('dns')).toBe(MAX_NAME_WAITERS_PER_NAME);
  });
});
