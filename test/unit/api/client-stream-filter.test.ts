import hpack, { type HpackHeader } from 'hpack.js';
import { describe, expect, it } from 'vitest';
import { isValidAuthority, repairAuthority } from '../../../src/api/authority.js';
import {
  ClientStreamFilter,
  Http2FramingError,
  MAX_HEADER_BLOCK_BYTES,
} from '../../../src/api/client-stream-filter.js';
import {
  CLIENT_PREFACE,
  FLAG_ACK,
  FLAG_END_HEADERS,
  FLAG_END_STREAM,
  FLAG_PADDED,
  FLAG_PRIORITY,
  FRAME_HEADER_BYTES,
  FRAME_TYPE_CONTINUATION,
  FRAME_TYPE_HEADERS,
  FRAME_TYPE_SETTINGS,
  frame,
  readFrameHeader,
} from '../../../src/api/http2-frames.js';

const FRAME_TYPE_DATA = 0x0;
const FRAME_TYPE_PING = 0x6;
const FRAME_TYPE_WINDOW_UPDATE = 0x8;

const settings = frame({ length: 6, type: FRAME_TYPE_SETTINGS, flags: 0, streamId: 0 }, new Uint8Array(6));
const settingsAck = frame(
  { length: 0, type: FRAME_TYPE_SETTINGS, flags: FLAG_ACK, streamId: 0 },
  new Uint8Array(0),
);
const windowUpdate = frame(
  { length: 4, type: FRAME_TYPE_WINDOW_UPDATE, flags: 0, streamId: 0 },
  new Uint8Array(4),
);
const ping = frame({ length: 8, type: FRAME_TYPE_PING, flags: 0, streamId: 0 }, new Uint8Array(8));

function request(path: string, authority: string, timeout: string): [string, string][] {
  return [
    [':method', 'POST'],
    [':scheme', 'http'],
    [':path', path],
    [':authority', authority],
    ['content-type', 'application/grpc'],
    ['user-agent', 'grpc-go/1.26.0'],
    ['te', 'trailers'],
    ['grpc-timeout', timeout],
  ];
}

/** A client's HPACK encoder: incremental indexing, so later blocks refer to its dynamic table. */
function clientEncoder(): (headers: [string, string][]) => Uint8Array {
  const compressor = hpack.compressor.create({ table: { maxSize: 4096 } });
  return (headers) => {
    compressor.write(headers.map(([name, value]) => ({ name, value })));
    return new Uint8Array(compressor.read() ?? []);
  };
}

function headersFrame(streamId: number, block: Uint8Array, flags = FLAG_END_HEADERS): Uint8Array {
  return frame({ length: block.byteLength, type: FRAME_TYPE_HEADERS, flags, streamId }, block);
}

function data(streamId: number, bytes: number): Uint8Array {
  return frame(
    { length: bytes, type: FRAME_TYPE_DATA, flags: FLAG_END_STREAM, streamId },
    new Uint8Array(bytes).fill(7),
  );
}

function concat(parts: readonly Uint8Array[]): Uint8Array {
  return new Uint8Array(Buffer.concat(parts));
}

/** What the HTTP/2 server makes of the filter's output: every request's headers, decoded in order. */
function serverView(bytes: Uint8Array): {
  frames: { type: number; flags: number }[];
  requests: [string, string][][];
} {
  expect(bytes.subarray(0, CLIENT_PREFACE.byteLength)).toEqual(CLIENT_PREFACE);
  const decoder = hpack.decompressor.create({ table: { maxSize: 4096 } });
  const frames: { type: number; flags: number }[] = [];
  const requests: [string, string][][] = [];
  let block: Uint8Array[] = [];
  for (let offset = CLIENT_PREFACE.byteLength; offset < bytes.byteLength; ) {
    const header = readFrameHeader(bytes.subarray(offset));
    const payload = bytes.subarray(offset + FRAME_HEADER_BYTES, offset + FRAME_HEADER_BYTES + header.length);
    frames.push({ type: header.type, flags: header.flags });
    if (header.type === FRAME_TYPE_HEADERS || header.type === FRAME_TYPE_CONTINUATION) {
      const skip = header.type === FRAME_TYPE_HEADERS && (header.flags & FLAG_PRIORITY) !== 0 ? 5 : 0;
      block.push(payload.subarray(skip));
      if ((header.flags & FLAG_END_HEADERS) !== 0) {
        decoder.write(concat(block));
        decoder.execute();
        const headers: [string, string][] = [];
        for (let next: HpackHeader | null = decoder.read(); next !== null; next = decoder.read()) {
          headers.push([next.name, next.value]);
        }
        requests.push(headers);
        block = [];
      }
    }
    offset += FRAME_HEADER_BYTES + header.length;
  }
  return { frames, requests };
}

function run(filter: ClientStreamFilter, input: Uint8Array, chunkBytes = input.byteLength): Uint8Array {
  const out: Uint8Array[] = [];
  for (let offset = 0; offset < input.byteLength; offset += chunkBytes) {
    out.push(...filter.push(input.subarray(offset, offset + chunkBytes)));
  }
  return concat(out);
}

describe('authority', () => {
  it('accepts host[:port] forms and refuses URLs', () => {
    for (const good of ['127.0.0.1:2379', 'localhost', '[::1]:2379', 'etcd-0.etcd:2379', '']) {
      expect(isValidAuthority(good), good).toBe(true);
    }
    for (const bad of ['http://127.0.0.1:2379', 'a/b', 'user@host', 'host name']) {
      expect(isValidAuthority(bad), bad).toBe(false);
    }
  });

  it('repairs a URL to its host and port, or gives up', () => {
    expect(repairAuthority('http://127.0.0.1:2379')).toBe('127.0.0.1:2379');
    expect(repairAuthority('https://user@etcd-0.etcd:2379/some/path')).toBe('etcd-0.etcd:2379');
    expect(repairAuthority('unix:///tmp/etcd.sock')).toBe('');
    expect(repairAuthority('http://bad host:1')).toBeUndefined();
  });
});

describe('ClientStreamFilter', () => {
  it('hands a connection with plain authorities over natively, dropping only the answer to its own SETTINGS', () => {
    const encode = clientEncoder();
    const first = headersFrame(1, encode(request('/etcdserverpb.KV/Put', '127.0.0.1:2379', '5S')));
    const filter = new ClientStreamFilter();
    const beforeRequest = run(filter, concat([CLIENT_PREFACE, settings, windowUpdate, settingsAck]));
    expect(filter.verdict()).toBe('wait');
    const rest = run(filter, concat([first, data(1, 20)]));
    expect(filter.verdict()).toBe('native');
    expect(concat([beforeRequest, rest])).toEqual(
      concat([CLIENT_PREFACE, settings, windowUpdate, first, data(1, 20)]),
    );
  });

  it('waits for the acknowledgement of its SETTINGS even after a good request, then goes native', () => {
    const encode = clientEncoder();
    const filter = new ClientStreamFilter();
    run(
      filter,
      concat([CLIENT_PREFACE, settings, headersFrame(1, encode(request('/a', 'localhost:1', '1S')))]),
    );
    expect(filter.verdict()).toBe('wait');
    expect(filter.settingsAcknowledged).toBe(false);
    expect(run(filter, settingsAck)).toEqual(new Uint8Array(0));
    expect(filter.verdict()).toBe('native');
  });

  it('goes native on a frame past the handshake (a PING) before any request', () => {
    const filter = new ClientStreamFilter();
    const out = run(filter, concat([CLIENT_PREFACE, settings, settingsAck, ping]));
    expect(filter.verdict()).toBe('native');
    expect(out).toEqual(concat([CLIENT_PREFACE, settings, ping]));
  });

  it('rewrites every later header block once a URL authority is seen, keeping HPACK tables in step', () => {
    const encode = clientEncoder();
    const good = headersFrame(1, encode(request('/etcdserverpb.KV/Range', '127.0.0.1:2379', '5S')));
    const bad = (stream: number, timeout: string) =>
      headersFrame(
        stream,
        encode(request('/etcdserverpb.Maintenance/Status', 'http://127.0.0.1:2379', timeout)),
      );
    // The client's second and third blocks refer to entries its first blocks added to its table.
    const input = concat([
      CLIENT_PREFACE,
      settings,
      settingsAck,
      good,
      data(1, 5),
      bad(3, '4S'),
      data(3, 5),
      bad(5, '3S'),
      bad(7, '3S'),
    ]);
    for (const chunkBytes of [input.byteLength, 1, 7]) {
      const filter = new ClientStreamFilter();
      const view = serverView(run(filter, input, chunkBytes));
      expect(filter.verdict()).toBe('repair');
      expect(view.requests).toEqual([
        request('/etcdserverpb.KV/Range', '127.0.0.1:2379', '5S'),
        request('/etcdserverpb.Maintenance/Status', '127.0.0.1:2379', '4S'),
        request('/etcdserverpb.Maintenance/Status', '127.0.0.1:2379', '3S'),
        request('/etcdserverpb.Maintenance/Status', '127.0.0.1:2379', '3S'),
      ]);
      expect(view.frames.map((entry) => entry.type)).toEqual([
        FRAME_TYPE_SETTINGS,
        FRAME_TYPE_HEADERS,
        FRAME_TYPE_DATA,
        FRAME_TYPE_HEADERS,
        FRAME_TYPE_DATA,
        FRAME_TYPE_HEADERS,
        FRAME_TYPE_HEADERS,
      ]);
    }
  });

  it('reads padded HEADERS with priority and CONTINUATION frames, and keeps END_STREAM and priority', () => {
    const block = clientEncoder()(request('/x', 'http://h:1', '1S'));
    const priority = new Uint8Array([0, 0, 0, 0, 15]);
    const padding = 3;
    const firstPart = block.subarray(0, 10);
    const headersPayload = concat([new Uint8Array([padding]), priority, firstPart, new Uint8Array(padding)]);
    const headers = frame(
      {
        length: headersPayload.byteLength,
        type: FRAME_TYPE_HEADERS,
        flags: FLAG_PADDED | FLAG_PRIORITY | FLAG_END_STREAM,
        streamId: 1,
      },
      headersPayload,
    );
    const continuation = frame(
      { length: block.byteLength - 10, type: FRAME_TYPE_CONTINUATION, flags: FLAG_END_HEADERS, streamId: 1 },
      block.subarray(10),
    );
    const filter = new ClientStreamFilter();
    const out = run(filter, concat([CLIENT_PREFACE, settings, settingsAck, headers, continuation]), 5);
    const view = serverView(out);
    expect(view.requests).toEqual([request('/x', 'h:1', '1S')]);
    expect(view.frames.at(-1)).toEqual({
      type: FRAME_TYPE_HEADERS,
      flags: FLAG_END_HEADERS | FLAG_END_STREAM | FLAG_PRIORITY,
    });
  });

  it('repairs from the next block on when told to (a connection not judged in time)', () => {
    const encode = clientEncoder();
    const filter = new ClientStreamFilter();
    run(filter, concat([CLIENT_PREFACE, settings]));
    filter.startRepairing();
    const view = serverView(
      concat([CLIENT_PREFACE, run(filter, headersFrame(1, encode(request('/a', 'h:1', '1S'))))]),
    );
    expect(view.requests).toEqual([request('/a', 'h:1', '1S')]);
    expect(filter.verdict()).toBe('repair');
  });

  it('passes a client without the HTTP/2 preface through unchanged', () => {
    const filter = new ClientStreamFilter();
    const input = new TextEncoder().encode('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
    expect(run(filter, input, 3)).toEqual(input);
    expect(filter.verdict()).toBe('native');
  });

  it('hands back the bytes of a frame it is still reading', () => {
    const block = clientEncoder()(request('/a', 'h:1', '1S'));
    const frameBytes = headersFrame(1, block);
    const filter = new ClientStreamFilter();
    run(filter, concat([CLIENT_PREFACE, settings, settingsAck, frameBytes.subarray(0, 12)]));
    expect(concat(filter.takeUnprocessed())).toEqual(frameBytes.subarray(0, 12));
  });

  it('refuses a frame inside a header block and a header block over the limit', () => {
    const block = clientEncoder()(request('/a', 'h:1', '1S'));
    const open = headersFrame(1, block, 0);
    expect(() => run(new ClientStreamFilter(), concat([CLIENT_PREFACE, open, ping]))).toThrow(
      Http2FramingError,
    );
    const huge = frame(
      { length: MAX_HEADER_BLOCK_BYTES, type: FRAME_TYPE_HEADERS, flags: FLAG_END_HEADERS, streamId: 1 },
      new Uint8Array(MAX_HEADER_BLOCK_BYTES),
    );
    expect(() => run(new ClientStreamFilter(), concat([CLIENT_PREFACE, huge]))).toThrow(/longer than/);
  });

  it('refuses a header block that does not decode', () => {
    const broken = headersFrame(1, new Uint8Array([0xff, 0xff, 0xff, 0xff, 0xff]));
    expect(() => run(new ClientStreamFilter(), concat([CLIENT_PREFACE, broken]))).toThrow(/does not decode/);
  });
});
