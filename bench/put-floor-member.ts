import { closeSync, ftruncateSync, openSync, writeSync } from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import * as tls from 'node:tls';
import { INLINE_SYNC_WAIT_MS } from '../src/lib/node/inline-io-policy.js';
import { SyncThread } from '../src/lib/node/sync-thread.js';
import { loadTlsMaterial, mutualTlsOptions } from '../src/transport/index.js';
import { framed, readFrames } from './put-floor-wire.js';

/**
 * One member of the put floor (`put-floor.ts`): the least work a replicated put can cost a Node
 * process on this machine, the figure MeshOS's CPU per put is set beside. No Raft, no key-value
 * store, no gRPC, and the same system calls and wake-ups as a MeshOS put at one client:
 * - the leader reads a client's request, writes it to its log file, sends it to both followers
 *   over mutual TLS (MeshOS's peer TLS options), fdatasyncs it on MeshOS's `SyncThread` (the
 *   event loop waiting up to `INLINE_SYNC_WAIT_MS`), and answers the client once its own sync
 *   and one follower's acknowledgement are in (a majority of three);
 * - a follower writes and syncs each entry the same way and acknowledges it;
 * - each process has one 10 ms timer, as a MeshOS node has its Raft tick.
 * Frames as `put-floor-wire.ts` makes them.
 *
 * `node put-floor-member.js leader ID CLIENT_PORT CERTS DATA FOLLOWER_PORT...` or
 * `node put-floor-member.js follower ID PEER_PORT CERTS DATA`; prints `ready` once listening.
 */

/** The log file's preallocated size, as MeshOS's segments (a write that extends a file syncs its size too). */
const LOG_BYTES = 64 * 1024 * 1024;
const TICK_MS = 10;
/** An entry's header on the wire: its sequence number, then room a real header would take. */
const ENTRY_HEADER_BYTES = 24;
/** An answer's body: about a PutResponse with its header. */
const ANSWER_BYTES = 48;

class EntryLog {
  private readonly fd: number;
  private offset = 0;
  private readonly syncThread = new SyncThread();

  constructor(file: string) {
    this.fd = openSync(file, 'w+');
    ftruncateSync(this.fd, LOG_BYTES);
  }

  /** Writes `entry` and makes it durable, as a MeshOS persist at one client does. */
  async append(entry: Uint8Array): Promise<void> {
    if (this.offset + entry.byteLength > LOG_BYTES) this.offset = 0;
    writeSync(this.fd, entry, 0, entry.byteLength, this.offset);
    this.offset += entry.byteLength;
    // Never busy here: a follower appends one entry after another, and the leader takes the
    // next request only once this one's sync is done (its answer waits for it).
    await this.syncThread.sync(this.fd, INLINE_SYNC_WAIT_MS);
  }

  close(): void {
    closeSync(this.fd);
  }
}

interface PendingPut {
  readonly client: net.Socket;
  acknowledgements: number;
  synced: boolean;
  answered: boolean;
}

/** Answers `put` once it is on a majority of three: the leader's own disk and one follower's. */
function answerWhenCommitted(put: PendingPut): void {
  if (put.answered || !put.synced || put.acknowledgements === 0) return;
  put.answered = true;
  put.client.write(framed(Buffer.alloc(ANSWER_BYTES)));
}

async function runFollower(id: number, port: number, certificates: string, log: EntryLog): Promise<void> {
  const options = mutualTlsOptions(await loadTlsMaterial(certificates, id));
  const server = tls.createServer(options.server, (socket) => {
    socket.setNoDelay(true);
    let chain = Promise.resolve();
    readFrames(socket, (entry) => {
      chain = chain.then(async () => {
        await log.append(entry);
        socket.write(framed(entry.subarray(0, ENTRY_HEADER_BYTES)));
      });
    });
  });
  server.listen(port, '127.0.0.1', () => console.log('ready'));
}

async function runLeader(
  id: number,
  clientPort: number,
  certificates: string,
  log: EntryLog,
  followerPorts: readonly number[],
): Promise<void> {
  const options = mutualTlsOptions(await loadTlsMaterial(certificates, id));
  const pending = new Map<number, PendingPut>();
  const followers = await Promise.all(
    followerPorts.map(
      (port) =>
        new Promise<tls.TLSSocket>((resolve, reject) => {
          const socket = tls.connect({ ...options.client, host: '127.0.0.1', port }, () => resolve(socket));
          socket.once('error', reject);
          socket.setNoDelay(true);
        }),
    ),
  );
  for (const follower of followers) {
    readFrames(follower, (acknowledgement) => {
      const sequence = acknowledgement.readUInt32BE(0);
      const put = pending.get(sequence);
      if (put === undefined) return;
      put.acknowledgements++;
      answerWhenCommitted(put);
      if (put.acknowledgements === followers.length) pending.delete(sequence);
    });
  }
  let sequence = 0;
  const server = net.createServer((client) => {
    client.setNoDelay(true);
    readFrames(client, (request) => {
      sequence++;
      const entry = Buffer.alloc(ENTRY_HEADER_BYTES + request.byteLength);
      entry.writeUInt32BE(sequence, 0);
      entry.set(request, ENTRY_HEADER_BYTES);
      const frame = framed(entry);
      // Sent before the leader's own sync, as MeshOS sends appends before it waits for its own.
      for (const follower of followers) follower.write(frame);
      const put: PendingPut = { client, acknowledgements: 0, synced: false, answered: false };
      pending.set(sequence, put);
      void log.append(entry).then(() => {
        put.synced = true;
        answerWhenCommitted(put);
      });
    });
  });
  server.listen(clientPort, '127.0.0.1', () => console.log('ready'));
}

async function main(): Promise<void> {
  const [role, idText, portText, certificates, dataDirectory, ...followerPortTexts] = process.argv.slice(2);
  if ((role !== 'leader' && role !== 'follower') || certificates === undefined || dataDirectory === undefined)
    throw new Error('usage: put-floor-member.js leader|follower ID PORT CERTS DATA [FOLLOWER_PORT...]');
  const id = Number(idText);
  const port = Number(portText);
  const log = new EntryLog(path.join(dataDirectory, `floor-${id}.log`));
  const tick = setInterval(() => {}, TICK_MS);
  process.once('SIGTERM', () => {
    clearInterval(tick);
    log.close();
    process.exit(0);
  });
  if (role === 'follower') await runFollower(id, port, certificates, log);
  else await runLeader(id, port, certificates, log, followerPortTexts.map(Number));
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
