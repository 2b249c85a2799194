/**
 * RFC 7541 Appendix C: the example header blocks, the header lists they decode to and the dynamic
 * table after each (newest entry first, with its size), for one decoder per example series.
 */
import { describe, expect, it } from 'vitest';
import { HpackDecoder } from '../../../../src/api/http2/hpack-decoder.js';
import { decodeHuffman, huffmanDecodedBytesMax } from '../../../../src/api/http2/huffman-decoder.js';

type Fields = [name: string, value: string][];

interface Step {
  readonly hex: string;
  readonly fields: Fields;
  readonly table: Fields;
  readonly tableBytes: number;
}

const LIST_BYTES = 65_536;

function bytes(hex: string): Buffer {
  return Buffer.from(hex.replace(/\s+/g, ''), 'hex');
}

function decodeAll(decoder: HpackDecoder, block: Uint8Array): Fields {
  const fields: Fields = [];
  decoder.decode(block, (name, value) => fields.push([name, value]));
  return fields;
}

function checkSeries(tableBytes: number, steps: readonly Step[]): void {
  const decoder = new HpackDecoder(tableBytes, LIST_BYTES);
  for (const step of steps) {
    expect(decodeAll(decoder, bytes(step.hex))).toEqual(step.fields);
    expect(decoder.tableEntries()).toEqual(step.table);
    expect(decoder.tableBytes).toBe(step.tableBytes);
  }
}

describe('RFC 7541 C.2: header field representations', () => {
  it('C.2.1 literal with indexing adds to the table', () => {
    checkSeries(4_096, [
      {
        hex: '400a 6375 7374 6f6d 2d6b 6579 0d63 7573 746f 6d2d 6865 6164 6572',
        fields: [['custom-key', 'custom-header']],
        table: [['custom-key', 'custom-header']],
        tableBytes: 55,
      },
    ]);
  });

  it('C.2.2 literal without indexing leaves the table alone', () => {
    checkSeries(4_096, [
      {
        hex: '040c 2f73 616d 706c 652f 7061 7468',
        fields: [[':path', '/sample/path']],
        table: [],
        tableBytes: 0,
      },
    ]);
  });

  it('C.2.3 literal never indexed leaves the table alone', () => {
    checkSeries(4_096, [
      {
        hex: '1008 7061 7373 776f 7264 0673 6563 7265 74',
        fields: [['password', 'secret']],
        table: [],
        tableBytes: 0,
      },
    ]);
  });

  it('C.2.4 indexed field from the static table', () => {
    checkSeries(4_096, [{ hex: '82', fields: [[':method', 'GET']], table: [], tableBytes: 0 }]);
  });
});

const REQUEST_1: Fields = [
  [':method', 'GET'],
  [':scheme', 'http'],
  [':path', '/'],
  [':authority', 'www.example.com'],
];
const REQUEST_2: Fields = [...REQUEST_1, ['cache-control', 'no-cache']];
const REQUEST_3: Fields = [
  [':method', 'GET'],
  [':scheme', 'https'],
  [':path', '/index.html'],
  [':authority', 'www.example.com'],
  ['custom-key', 'custom-value'],
];
const REQUEST_TABLES: Fields[] = [
  [[':authority', 'www.example.com']],
  [
    ['cache-control', 'no-cache'],
    [':authority', 'www.example.com'],
  ],
  [
    ['custom-key', 'custom-value'],
    ['cache-control', 'no-cache'],
    [':authority', 'www.example.com'],
  ],
];

describe('RFC 7541 C.3 and C.4: requests on one connection', () => {
  it('C.3 without Huffman coding', () => {
    checkSeries(4_096, [
      {
        hex: '8286 8441 0f77 7777 2e65 7861 6d70 6c65 2e63 6f6d',
        fields: REQUEST_1,
        table: REQUEST_TABLES[0]!,
        tableBytes: 57,
      },
      {
        hex: '8286 84be 5808 6e6f 2d63 6163 6865',
        fields: REQUEST_2,
        table: REQUEST_TABLES[1]!,
        tableBytes: 110,
      },
      {
        hex: '8287 85bf 400a 6375 7374 6f6d 2d6b 6579 0c63 7573 746f 6d2d 7661 6c75 65',
        fields: REQUEST_3,
        table: REQUEST_TABLES[2]!,
        tableBytes: 164,
      },
    ]);
  });

  it('C.4 with Huffman coding', () => {
    checkSeries(4_096, [
      {
        hex: '8286 8441 8cf1 e3c2 e5f2 3a6b a0ab 90f4 ff',
        fields: REQUEST_1,
        table: REQUEST_TABLES[0]!,
        tableBytes: 57,
      },
      { hex: '8286 84be 5886 a8eb 1064 9cbf', fields: REQUEST_2, table: REQUEST_TABLES[1]!, tableBytes: 110 },
      {
        hex: '8287 85bf 4088 25a8 49e9 5ba9 7d7f 8925 a849 e95b b8e8 b4bf',
        fields: REQUEST_3,
        table: REQUEST_TABLES[2]!,
        tableBytes: 164,
      },
    ]);
  });
});

const DATE_1 = 'Mon, 21 Oct 2013 20:13:21 GMT';
const DATE_2 = 'Mon, 21 Oct 2013 20:13:22 GMT';
const LOCATION = 'https://www.example.com';
const COOKIE = 'foo=ASDJKHQKBZXOQWEOPIUAXQWEOIU; max-age=3600; version=1';
const RESPONSE_1: Fields = [
  [':status', '302'],
  ['cache-control', 'private'],
  ['date', DATE_1],
  ['location', LOCATION],
];
const RESPONSE_2: Fields = [
  [':status', '307'],
  ['cache-control', 'private'],
  ['date', DATE_1],
  ['location', LOCATION],
];
const RESPONSE_3: Fields = [
  [':status', '200'],
  ['cache-control', 'private'],
  ['date', DATE_2],
  ['location', LOCATION],
  ['content-encoding', 'gzip'],
  ['set-cookie', COOKIE],
];
/** After each response with a 256-octet table: later entries evict the oldest. */
const RESPONSE_TABLES: Fields[] = [
  [
    ['location', LOCATION],
    ['date', DATE_1],
    ['cache-control', 'private'],
    [':status', '302'],
  ],
  [
    [':status', '307'],
    ['location', LOCATION],
    ['date', DATE_1],
    ['cache-control', 'private'],
  ],
  [
    ['set-cookie', COOKIE],
    ['content-encoding', 'gzip'],
    ['date', DATE_2],
  ],
];

describe('RFC 7541 C.5 and C.6: responses with a 256-octet table (evictions)', () => {
  it('C.5 without Huffman coding', () => {
    checkSeries(256, [
      {
        hex: `4803 3330 3258 0770 7269 7661 7465 611d 4d6f 6e2c 2032 3120 4f63 7420 3230 3133
              2032 303a 3133 3a32 3120 474d 546e 1768 7474 7073 3a2f 2f77 7777 2e65 7861 6d70
              6c65 2e63 6f6d`,
        fields: RESPONSE_1,
        table: RESPONSE_TABLES[0]!,
        tableBytes: 222,
      },
      { hex: '4803 3330 37c1 c0bf', fields: RESPONSE_2, table: RESPONSE_TABLES[1]!, tableBytes: 222 },
      {
        hex: `88c1 611d 4d6f 6e2c 2032 3120 4f63 7420 3230 3133 2032 303a 3133 3a32 3220 474d
              54c0 5a04 677a 6970 7738 666f 6f3d 4153 444a 4b48 514b 425a 584f 5157 454f 5049
              5541 5851 5745 4f49 553b 206d 6178 2d61 6765 3d33 3630 303b 2076 6572 7369 6f6e
              3d31`,
        fields: RESPONSE_3,
        table: RESPONSE_TABLES[2]!,
        tableBytes: 215,
      },
    ]);
  });

  it('C.6 with Huffman coding', () => {
    checkSeries(256, [
      {
        hex: `4882 6402 5885 aec3 771a 4b61 96d0 7abe 9410 54d4 44a8 2005 9504 0b81 66e0 82a6
              2d1b ff6e 919d 29ad 1718 63c7 8f0b 97c8 e9ae 82ae 43d3`,
        fields: RESPONSE_1,
        table: RESPONSE_TABLES[0]!,
        tableBytes: 222,
      },
      { hex: '4883 640e ffc1 c0bf', fields: RESPONSE_2, table: RESPONSE_TABLES[1]!, tableBytes: 222 },
      {
        hex: `88c1 6196 d07a be94 1054 d444 a820 0595 040b 8166 e084 a62d 1bff c05a 839b d9ab
              77ad 94e7 821d d7f2 e6c7 b335 dfdf cd5b 3960 d5af 2708 7f36 72c1 ab27 0fb5 291f
              9587 3160 65c0 03ed 4ee5 b106 3d50 07`,
        fields: RESPONSE_3,
        table: RESPONSE_TABLES[2]!,
        tableBytes: 215,
      },
    ]);
  });
});

describe('Huffman strings of RFC 7541 C.4 and C.6', () => {
  const strings: [hex: string, text: string][] = [
    ['f1e3 c2e5 f23a 6ba0 ab90 f4ff', 'www.example.com'],
    ['a8eb 1064 9cbf', 'no-cache'],
    ['25a8 49e9 5ba9 7d7f', 'custom-key'],
    ['25a8 49e9 5bb8 e8b4 bf', 'custom-value'],
    ['6402', '302'],
    ['aec3 771a 4b', 'private'],
    ['d07a be94 1054 d444 a820 0595 040b 8166 e082 a62d 1bff', DATE_1],
    ['9d29 ad17 1863 c78f 0b97 c8e9 ae82 ae43 d3', LOCATION],
    ['9bd9 ab', 'gzip'],
  ];
  it.each(strings)('%s decodes to %s', (hex, text) => {
    const encoded = bytes(hex);
    const target = Buffer.alloc(huffmanDecodedBytesMax(encoded.length));
    const length = decodeHuffman(encoded, 0, encoded.length, target);
    expect(target.toString('latin1', 0, length)).toBe(text);
  });
});
