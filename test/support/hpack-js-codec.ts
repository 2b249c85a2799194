/**
 * A stand-in HPACK coding for the own HTTP/2 connection, over hpack.js (through
 * `src/api/header-block.ts`), until MeshOS's own decoder and encoder (`src/api/http2/hpack-*.ts`)
 * are there. Tests only.
 */
import { ClientHeaderDecoder, encodeWithoutIndexing } from '../../src/api/header-block.js';
import type { HeaderCodec } from '../../src/api/http2/header-codec.js';

export const hpackJsCodec: HeaderCodec = {
  newDecoder() {
    const decoder = new ClientHeaderDecoder();
    return {
      decode(block, field) {
        for (const header of decoder.decode(block)) field(header.name, header.value);
      },
    };
  },
  encode(fields) {
    return Buffer.from(encodeWithoutIndexing(fields.map(([name, value]) => ({ name, value }))));
  },
};
