/**
 * Reads the audit chain from any control plane (a node's own, or etcd endpoints from the CLI):
 * lists records, follows new ones through a watch, verifies the chain and folds it into what
 * became of each action. A listing is read at one revision, head and anchor included, so a
 * write landing meanwhile cannot look like a break.
 */

import type { ClientTlsOptions } from '../client/index.js';
import {
  AUDIT_ANCHOR_KEY,
  AUDIT_HEAD_KEY,
  auditKey,
  type ControlEntry,
  type ControlPlane,
  type ControlWatch,
  KEYSPACE_PREFIXES,
  openControlPlane,
} from '../control/index.js';
import { type ActionsReport, actionsFromAudit } from './audit-actions.js';
import { AUDIT_READ_PAGE_RECORDS } from './audit-limits.js';
import {
  AUDIT_EMPTY_ANCHOR,
  type AuditAnchor,
  type AuditHead,
  type AuditRecord,
  decodeAuditAnchor,
  decodeAuditHead,
  decodeAuditRecord,
  decodedOrUndefined,
} from './audit-record.js';
import { AuditChainVerifier, type AuditExpectation, type AuditVerifyReport } from './audit-verify.js';

export interface AuditListOptions {
  /** First seq listed (default: the first kept). */
  readonly fromSeq?: number;
}

/** Records as they come: the listing's, then each new one; `close` ends it. */
export interface AuditFollow extends AsyncIterable<AuditRecord> {
  close(): void;
}

/** The chain's bounds at one revision. */
export interface AuditBounds {
  readonly revision: number;
  readonly head: AuditHead | undefined;
  readonly anchor: AuditAnchor;
}

export class AuditReader {
  constructor(private readonly plane: ControlPlane) {}

  /** Head and anchor as stored now. */
  async bounds(revision = 0): Promise<AuditBounds> {
    const [head, anchor] = await Promise.all([
      this.plane.get(AUDIT_HEAD_KEY, { revision }),
      this.plane.get(AUDIT_ANCHOR_KEY, { revision }),
    ]);
    return {
      revision,
      head: head === undefined ? undefined : decodeAuditHead(AUDIT_HEAD_KEY, head.value),
      anchor: anchor === undefined ? AUDIT_EMPTY_ANCHOR : decodeAuditAnchor(AUDIT_ANCHOR_KEY, anchor.value),
    };
  }

  /** Every kept record from `fromSeq` on, in order, at one revision; a record that does not decode throws. */
  async list(options: AuditListOptions = {}): Promise<{ records: AuditRecord[]; revision: number }> {
    const records: AuditRecord[] = [];
    const revision = await this.scan(options.fromSeq ?? 0, (entry) => {
      records.push(decodeAuditRecord(entry.key, entry.value));
    });
    return { records, revision };
  }

  /** Recomputes every hash and link from the anchor to the head; the first problem found is reported. */
  async verify(options: { readonly expect?: AuditExpectation } = {}): Promise<AuditVerifyReport> {
    const entries: ControlEntry[] = [];
    const revision = await this.scan(0, (entry) => entries.push(entry));
    const [head, anchor] = await Promise.all([
      this.plane.get(AUDIT_HEAD_KEY, { revision }),
      this.plane.get(AUDIT_ANCHOR_KEY, { revision }),
    ]);
    // An unreadable anchor counts as none: the first kept record then shows the break.
    const verifier = new AuditChainVerifier(
      anchor === undefined
        ? AUDIT_EMPTY_ANCHOR
        : (decodedOrUndefined(() => decodeAuditAnchor(AUDIT_ANCHOR_KEY, anchor.value)) ?? AUDIT_EMPTY_ANCHOR),
      options.expect,
    );
    for (const entry of entries) verifier.add(entry.key, entry.value);
    if (head === undefined) return verifier.finish(undefined);
    return verifier.finish(
      decodedOrUndefined(() => decodeAuditHead(AUDIT_HEAD_KEY, head.value)) ?? 'unreadable',
    );
  }

  /** What became of each action the kept records tell of. */
  async actions(): Promise<ActionsReport> {
    return actionsFromAudit((await this.list()).records);
  }

  /** The records from `fromSeq` on (default: the next one appended), then each one appended. */
  follow(options: AuditListOptions = {}): AuditFollow {
    const plane = this.plane;
    let watch: ControlWatch | undefined;
    let closed = false;
    const scan = this.scan.bind(this);
    const bounds = this.bounds.bind(this);
    async function* run(): AsyncGenerator<AuditRecord> {
      const fromSeq = options.fromSeq ?? ((await bounds()).head?.seq ?? 0) + 1;
      const listed: AuditRecord[] = [];
      const revision = await scan(fromSeq, (entry) => {
        listed.push(decodeAuditRecord(entry.key, entry.value));
      });
      yield* listed;
      if (closed) return;
      watch = await plane.watch(KEYSPACE_PREFIXES.audit, { fromRevision: revision + 1 });
      if (closed) watch.cancel();
      for await (const event of watch) {
        // Deletes are trims of the oldest records.
        if (event.type === 'put') yield decodeAuditRecord(event.entry.key, event.entry.value);
      }
    }
    const records = run();
    return {
      [Symbol.asyncIterator]: () => records,
      close: () => {
        closed = true;
        watch?.cancel();
      },
    };
  }

  /** Hands each stored key from `fromSeq` on to `visit`, page by page at one revision; answers it. */
  private async scan(fromSeq: number, visit: (entry: ControlEntry) => void): Promise<number> {
    const prefix = KEYSPACE_PREFIXES.audit;
    const first = fromSeq > 0 ? { startAfter: auditKey(fromSeq - 1) } : {};
    let page = await this.plane.range(prefix, { limit: AUDIT_READ_PAGE_RECORDS, ...first });
    const revision = page.revision;
    for (;;) {
      for (const entry of page.entries) visit(entry);
      const last = page.entries[page.entries.length - 1];
      if (!page.more || last === undefined) return revision;
      page = await this.plane.range(prefix, {
        limit: AUDIT_READ_PAGE_RECORDS,
        revision,
        startAfter: last.key,
      });
    }
  }
}

/** A reader over the control plane behind `endpoints` (voters' client ports, or etcd); close the plane after. */
export async function openAuditReader(options: {
  readonly endpoints: readonly string[];
  readonly root?: string;
  readonly tls?: ClientTlsOptions;
}): Promise<{ readonly reader: AuditReader; readonly plane: ControlPlane }> {
  const plane = await openControlPlane({
    kind: 'etcd',
    endpoints: options.endpoints,
    ...(options.root === undefined ? {} : { root: options.root }),
    ...(options.tls === undefined ? {} : { tls: options.tls }),
  });
  return { reader: new AuditReader(plane), plane };
}
