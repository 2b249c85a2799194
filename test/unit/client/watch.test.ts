import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  bytesToText,
  MeshClient,
  WATCH_BUFFER_RESPONSES,
  type WatchEvent,
} from '../../../src/client/index.js';
import { startTestNode, type TestNode } from './cluster-fixture.js';

const text = bytesToText;

function describeEvent(event: WatchEvent): string {
  return `${event.type} ${text(event.kv.key)}=${text(event.kv.value)}`;
}

describe('MeshClient.watch', () => {
  let node: TestNode;
  let client: MeshClient;

  beforeAll(async () => {
    node = await startTestNode();
    client = await MeshClient.connect({ endpoints: [node.address] });
  });

  afterAll(async () => {
    client.close();
    await node.stop();
  });

  it('yields puts and deletes under a prefix, in order', async () => {
    const watch = await client.watch('w1/', { prefix: true, prevKv: true });
    await client.put('w1/a', '1');
    await client.put('elsewhere', 'ignored');
    await client.put('w1/a', '2');
    await client.delete('w1/a');
    const seen: WatchEvent[] = [];
    for await (const event of watch) {
      seen.push(event);
      if (seen.length === 3) break;
    }
    expect(seen.map(describeEvent)).toEqual(['put w1/a=1', 'put w1/a=2', 'delete w1/a=']);
    expect(seen[1]?.prevKv && text(seen[1].prevKv.value)).toBe('1');
    expect(seen[2]?.kv.modRevision).toBeGreaterThan(seen[1]?.kv.modRevision ?? 0);
  });

  it('replays history from a start revision', async () => {
    const first = await client.put('w2/key', 'old');
    await client.put('w2/key', 'new');
    const watch = await client.watch('w2/key', { startRevision: first.header.revision });
    const first2 = await watch.next();
    const second = await watch.next();
    expect([first2.value, second.value].map((event) => describeEvent(event as WatchEvent))).toEqual([
      'put w2/key=old',
      'put w2/key=new',
    ]);
    await watch.return();
  });

  it('cancels the server-side watch when the loop breaks', async () => {
    // Streams of earlier tests end asynchronously on the server.
    await expect.poll(() => node.server.watchStreams).toBe(0);
    const watch = await client.watch('w3/key');
    expect(node.server.watchStreams).toBe(1);
    await client.put('w3/key', 'x');
    for await (const event of watch) {
      expect(describeEvent(event)).toBe('put w3/key=x');
      break;
    }
    expect(await watch.next()).toEqual({ value: undefined, done: true });
    await expect.poll(() => node.server.watchStreams).toBe(0);
  });

  it('keeps every event when the reader is slower than the writer', async () => {
    const watch = await client.watch('w4/', { prefix: true });
    const count = WATCH_BUFFER_RESPONSES * 2 + 10;
    for (let index = 0; index < count; index++) await client.put(`w4/${index}`, String(index));
    const values: string[] = [];
    for await (const event of watch) {
      values.push(text(event.kv.value));
      if (values.length === count) break;
    }
    expect(values).toEqual(Array.from({ length: count }, (_, index) => String(index)));
  });

  it('ends its watches when the client closes', async () => {
    const other = await MeshClient.connect({ endpoints: [node.address] });
    const watch = await other.watch('w5/key');
    const pending = watch.next();
    other.close();
    expect(await pending).toEqual({ value: undefined, done: true });
  });
});
