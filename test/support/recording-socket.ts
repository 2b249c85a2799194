import { Duplex } from 'node:stream';

/**
 * A socket stand-in for a connection under test: what the connection writes is kept in
 * `written`, and what the test emits as 'data' is what the connection reads.
 */
export function recordingSocket(): { readonly socket: Duplex; readonly written: Buffer[] } {
  const written: Buffer[] = [];
  const socket = new Duplex({
    read() {},
    write(chunk: Buffer, _encoding, done) {
      written.push(chunk);
      done();
    },
  });
  return { socket, written };
}
