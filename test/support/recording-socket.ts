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

/**
 * A socket stand-in whose peer never reads: no write completes, so what the connection writes
 * stays in the socket (`writableLength` grows) and no 'drain' comes. `written` keeps every chunk
 * handed to `write`.
 */
export function stalledSocket(): { readonly socket: Duplex; readonly written: Buffer[] } {
  const written: Buffer[] = [];
  const socket = new Duplex({
    read() {},
    write() {
      // Never done: the peer does not read.
    },
  });
  const write = socket.write.bind(socket) as (chunk: Buffer) => boolean;
  socket.write = ((chunk: Buffer) => {
    written.push(chunk);
    return write(chunk);
  }) as typeof socket.write;
  return { socket, written };
}
