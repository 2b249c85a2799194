import type { Entry } from '../../raft/index.js';
import { decodeSessionEnvelope, SessionTable } from '../../server/index.js';
import { decodeKvCommand } from './commands.js';

/** What applying one entry produced for the client that proposed it. */
export interface ApplyOutcome {
  readonly clientId: string;
  readonly sequence: number;
  /** Encoded result (see `encodeKvResult`), or undefined for a stale retry that gets no answer. */
  readonly result: Uint8Array | undefined;
}

/** put: empty; cas: one byte 1 (swapped) or 0; get: presence byte then UTF-8 value. */
export function encodeKvResult(kind: 'put' | 'cas' | 'get', outcome: boolean | string | null): Uint8Array {
  if (kind === 'put') return new Uint8Array(0);
  if (kind === 'cas') return Uint8Array.of(outcome === true ? 1 : 0);
  if (outcome === null) return Uint8Array.of(0);
  const text = new TextEncoder().encode(String(outcome));
  const out = new Uint8Array(text.length + 1);
  out[0] = 1;
  out.set(text, 1);
  return out;
}

/**
 * The simulator's replicated state machine: a string map with put / get / cas, applied
 * exactly once per client operation through the session table (a retried proposal that
 * commits twice applies once and answers with the first result). It is volatile: a
 * restarted node rebuilds it by applying the committed log again.
 */
export class KvStateMachine {
  private readonly values = new Map<string, string>();
  private readonly sessions = new SessionTable();
  /** Every value any put or successful cas wrote, so lost acknowledged writes can be found. */
  private readonly written = new Set<string>();
  private appliedIndex = 0;

  get applied(): number {
    return this.appliedIndex;
  }

  read(key: string): string | null {
    return this.values.get(key) ?? null;
  }

  hasWritten(value: string): boolean {
    return this.written.has(value);
  }

  /** Applies one committed entry; returns the client answer for session entries. */
  apply(entry: Entry): ApplyOutcome | undefined {
    this.appliedIndex = entry.index;
    if (entry.kind !== 'normal' || entry.data.length === 0) return undefined;
    const envelope = decodeSessionEnvelope(entry.data);
    const admission = this.sessions.admit(envelope.clientId, envelope.sequence, entry.index);
    if (admission.kind === 'duplicate') {
      return { clientId: envelope.clientId, sequence: envelope.sequence, result: admission.result };
    }
    if (admission.kind === 'stale') {
      return { clientId: envelope.clientId, sequence: envelope.sequence, result: undefined };
    }
    const command = decodeKvCommand(envelope.payload);
    let result: Uint8Array;
    switch (command.kind) {
      case 'put':
        this.values.set(command.key, command.value);
        this.written.add(command.value);
        result = encodeKvResult('put', true);
        break;
      case 'get':
        result = encodeKvResult('get', this.read(command.key));
        break;
      case 'cas': {
        const swapped = this.read(command.key) === command.expected;
        if (swapped) {
          this.values.set(command.key, command.value);
          this.written.add(command.value);
        }
        result = encodeKvResult('cas', swapped);
        break;
      }
    }
    this.sessions.record(envelope.clientId, envelope.sequence, result);
    return { clientId: envelope.clientId, sequence: envelope.sequence, result };
  }
}
