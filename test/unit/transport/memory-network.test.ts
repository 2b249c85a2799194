import { describe, expect, it } from 'vitest';
import { type ByteStream, isMeshError, SeededRandom } from '../../../src/lib/index.js';
import { InMemoryNetwork, MEMORY_STREAM_HIGH_WATER_BYTES } from '../../../src/transport/index.js';

const address = { host: 'server', port: 9 };

async function connectedStreams(
  network: InMemoryNetwork,
): Promise<{ client: ByteStream; server: ByteStream }> {
  let accept: (stream: ByteStream) => void = () => {};
  const accepted = new Promise<ByteStream>((resolve) => (accept = resolve));
  await network.listen(address, (stream) => accept(stream));
  const client = await network.connect(address);
  return { client, server: await accepted };
}

function received(stream: ByteStream, count: number): Promise<number[]> {
  const bytes: number[] = [];
  return new Promise((resolve) => {
    stream.onData((chunk) => {
      bytes.push(...chunk);
      if (bytes.length >= count) resolve(bytes);
    });
  });
}

describe('InMemoryNetwork', () => {
  it('refuses connections to an address nobody listens on, and a second listener on one address', async () => {
    const network = new InMemoryNetwork();
    const refused = await network.connect(address).catch((error: unknown) => error);
    expect(isMeshError(refused, 'NETWORK')).toBe(true);
    await network.listen(address, () => {});
    await expect(network.listen(address, () => {})).rejects.toSatisfy((error) =>
      isMeshError(error, 'NETWORK'),
    );
  });

  it('delivers bytes in order, never inside write, however they are cut', async () => {
    const { client, server } = await connectedStreams(new InMemoryNetwork({ chunking: new SeededRandom(1) }));
    const sent = Array.from({ length: 500 }, (_unused, index) => index % 251);
    const arrival = received(server, sent.length);
    let writing = true;
    let deliveredDuringWrite = false;
    server.onData(() => {
      deliveredDuringWrite ||= writing;
    });
    client.write(Uint8Array.from(sent.slice(0, 200)));
    client.write(Uint8Array.from(sent.slice(200)));
    writing = false;
    expect(await arrival).toEqual(sent);
    expect(deliveredDuringWrite).toBe(false);
  });

  it('delivers what was written before a close, then closes both ends', async () => {
    const network = new InMemoryNetwork();
    const { client, server } = await connectedStreams(network);
    const arrival = received(server, 3);
    const serverClosed = new Promise<void>((resolve) => server.onClose(() => resolve()));
    client.write(Uint8Array.of(1, 2, 3));
    client.close();
    expect(client.write(Uint8Array.of(4))).toBe(false);
    expect(await arrival).toEqual([1, 2, 3]);
    await serverClosed;
    expect(network.openStreamCount()).toBe(0);
  });

  it('reports a full buffer past the high-water mark and drains later', async () => {
    const { client, server } = await connectedStreams(new InMemoryNetwork());
    server.onData(() => {});
    const drained = new Promise<void>((resolve) => client.onDrain(() => resolve()));
    expect(client.write(new Uint8Array(MEMORY_STREAM_HIGH_WATER_BYTES + 1))).toBe(false);
    await drained;
    expect(client.write(new Uint8Array(1))).toBe(true);
  });
});
