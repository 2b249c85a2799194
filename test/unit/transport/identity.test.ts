import type { PeerCertificate } from 'node:tls';
import { describe, expect, it } from 'vitest';
import { nodeCommonName, nodeIdFromCertificate, nodeUri } from '../../../src/transport/index.js';

/** The two fields of a peer certificate the identity is read from. */
function certificate(uris: readonly string[], commonName: string | undefined): PeerCertificate {
  return {
    subjectaltname: uris.map((uri) => `URI:${uri}`).join(', '),
    subject: commonName === undefined ? {} : { CN: commonName },
  } as unknown as PeerCertificate;
}

describe('node identity in certificates', () => {
  it('binds any NodeId, including ids past 32 bits', () => {
    for (const id of [1, 2 ** 32, Number.MAX_SAFE_INTEGER]) {
      expect(nodeIdFromCertificate(certificate([nodeUri(id)], nodeCommonName(id)))).toBe(id);
    }
  });

  it('names no node when the certificate names none, two, or an id that is no NodeId', () => {
    expect(nodeIdFromCertificate(certificate([nodeUri(1)], nodeCommonName(2)))).toBeUndefined();
    for (const text of ['0', '007', '9007199254740992', '18446744073709551615']) {
      expect(
        nodeIdFromCertificate(certificate([`meshos://node/${text}`], `meshos-node-${text}`)),
      ).toBeUndefined();
    }
    expect(nodeIdFromCertificate(certificate([], undefined))).toBeUndefined();
  });
});
