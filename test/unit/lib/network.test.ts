import { describe, expect, it } from 'vitest';
import { type ByteStream, MeshError, NetworkError, parseAddress } from '../../../src/lib/index.js';
import { NodeNetwork } from '../../../src/lib/node/index.js';

describe('addresses', () => {
  it('parses host:port and bracketed IPv6', () => {
    expect(parseAddress('127.0.0.1:2380')).toEqual({ host: '127.0.0.1', port: 2380 });
    expect(parseAddress('[::1]:80')).toEqual({ host: '::1', port: 80 });
  });

  it('rejects malformed addresses with a typed error', () => {
    for (const bad of ['localhost', '1.2.3.4:99999', ':80', 'a:b']) {
      expect(() => parseAddress(bad)).toThrow(MeshError);
    }
  });
});

describe('NodeNetwork', () => {
  it('carries bytes both ways over loopback TCP and reports close', async () => {
    const network = new NodeNetwork();
    let accept!: (stream: ByteStream) => void;
    const accepted = new Promise<ByteStream>((resolve) => {
      accept = resolve;
    });
    const listener = await network.listen({ host: '127.0.0.1', port: 0 }, (stream) => accept(stream));
    const client = await network.connect(listener.address);
    const server = await accepted;
    const echoed = new Promise<string>((resolve) =>
      client.onData((data) => resolve(new TextDecoder().decode(data))),
    );
    server.onData((data) => server.write(data));
    client.write(new TextEncoder().encode('ping'));
    expect(await echoed).toBe('ping');
    const closed = new Promise<void>((resolve) => server.onClose(() => resolve()));
    client.close();
    await closed;
    await listener.close();
  });

  it('fails to connect to a closed port with a typed error', async () => {
    const network = new NodeNetwork();
    const listener = await network.listen({ host: '127.0.0.1', port: 0 }, () => {});
    const address = listener.address;
    await listener.close();
    await expect(network.connect(address)).rejects.toBeInstanceOf(NetworkError);
  });
});
