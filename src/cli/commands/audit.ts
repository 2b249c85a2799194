/**
 * `meshos audit [verify]` and `meshos actions`: the reconciler's audit chain and what became of
 * each action, read from the control plane through any voter's client port (or the etcd the
 * mesh runs on), so they answer from anywhere, whichever node reconciles.
 */
import {
  type ActionView,
  type AuditExpectation,
  type AuditReader,
  type AuditRecord,
  type AuditVerifyReport,
  describeWireAction,
  openAuditReader,
  versioned,
} from '../../mesh/index.js';
import type { ClientTlsValues } from './client-tls-flags.js';
import {
  CLIENT_TLS_OPTION_USAGE,
  type CommandIo,
  clientTarget,
  ENDPOINTS_OPTION,
  EXIT_FAILED,
  EXIT_OK,
  integerOption,
  JSON_OPTION,
  parseCommandLine,
  printStream,
  runCommand,
  tableLines,
  UsageError,
} from './common.js';

export const AUDIT_USAGE = `usage:
  meshos audit [--from SEQ] [--follow] [--json]
  meshos audit verify [--expect SEQ:HASH] [--json]
options:
  --endpoints a,b,c        client endpoints of the voters, or of the etcd the mesh runs on
                           (default 127.0.0.1:2379)
${CLIENT_TLS_OPTION_USAGE}
  --from SEQ               first record shown (default: the oldest kept)
  --follow                 after the kept records, print each one appended until Ctrl-C
  --json                   one JSON object per record and line; verify: one JSON object
  --expect SEQ:HASH        verify also checks that record SEQ still has HASH (a head hash an earlier
                           verify printed, kept elsewhere): catches a rewrite of the whole tail
verify recomputes every record's hash and link from the anchor (the last trimmed record) to the
head and exits 1 naming the first record changed, missing or moved; gap records (entries the
recorder dropped when its buffer was full) are listed but do not fail it`;

export const ACTIONS_USAGE = `usage:
  meshos actions [--json]
options:
  --endpoints a,b,c        client endpoints of the voters, or of the etcd the mesh runs on
                           (default 127.0.0.1:2379)
${CLIENT_TLS_OPTION_USAGE}
  --json                   one JSON object: every action, the counts per state, queue latency
every action the kept audit records tell of: pending, in-flight, done, failed, refused,
duplicate, or abandoned (its reconciler's term ended first); latency is dispatched - queued`;

async function withReader(
  values: ClientTlsValues & { readonly endpoints?: string | undefined },
  body: (reader: AuditReader) => Promise<number>,
) {
  const { reader, plane } = await openAuditReader(clientTarget(values));
  try {
    return await body(reader);
  } finally {
    await plane.close();
  }
}

const wallTime = (wallMs: number | undefined): string =>
  wallMs === undefined ? '-' : new Date(wallMs).toISOString();

/** One record as `audit` prints it: seq, time, writer, then what happened. */
export function auditRecordLine(record: AuditRecord): string {
  const { entry } = record;
  const what = (() => {
    switch (entry.type) {
      case 'term':
        return `term: node ${record.node} holds the reconciler seat (lease ${record.leaseId.toString(16)})`;
      case 'emitted':
        return `emitted #${entry.action.id} ${describeWireAction(entry.action.action)}`;
      case 'gap':
        return `gap: ${entry.dropped} entries dropped (buffer full) from ${wallTime(entry.firstDroppedAtWallMs)}`;
      case 'deferred':
      case 'gated':
      case 'failed':
        return `${entry.type} #${entry.id}: ${entry.reason}`;
      default:
        return `${entry.type} #${entry.id}`;
    }
  })();
  return `${record.seq}  ${wallTime(record.atWallMs)}  n${record.node}/e${record.epoch}  ${what}`;
}

export function verifyReportLines(report: AuditVerifyReport): string[] {
  const gaps = report.gaps.map(
    (gap) =>
      `warning: gap at record ${gap.seq}: ${gap.dropped} entries dropped (buffer full) between ${wallTime(gap.firstDroppedAtWallMs)} and ${wallTime(gap.lastDroppedAtWallMs)}`,
  );
  if (!report.ok) {
    return [
      `audit chain broken at record ${report.problem.seq} (${report.problem.kind}): ${report.problem.message}`,
    ];
  }
  const kept =
    report.checked === 0
      ? 'no records kept'
      : `records ${report.headSeq - report.checked + 1}..${report.headSeq}`;
  const trimmed = report.anchor.seq > 0 ? `, anchored at trimmed record ${report.anchor.seq}` : '';
  return [`audit chain intact: ${kept}${trimmed}, head ${report.headHash}`, ...gaps];
}

function actionRow(view: ActionView): string[] {
  return [
    String(view.epoch),
    String(view.id),
    view.state,
    wallTime(view.queuedAtWallMs),
    view.queueLatencyMs === undefined ? '-' : `${view.queueLatencyMs}ms`,
    String(view.deferrals),
    view.action === undefined ? '?' : describeWireAction(view.action),
    view.reason ?? '',
  ];
}

async function listOrFollow(argv: string[], io: CommandIo): Promise<number> {
  const { values, positionals } = parseCommandLine(argv, {
    ...ENDPOINTS_OPTION,
    ...JSON_OPTION,
    from: { type: 'string' },
    follow: { type: 'boolean' },
  });
  if (positionals.length > 0) throw new UsageError(`unknown audit subcommand '${positionals[0]}'`);
  const fromSeq = integerOption('from', values.from) ?? 0;
  const line = (record: AuditRecord): string =>
    values.json === true ? JSON.stringify(record) : auditRecordLine(record);
  return withReader(values, async (reader) => {
    if (values.follow === true) return printStream(io, reader.follow({ fromSeq }), undefined, line);
    for (const record of (await reader.list({ fromSeq })).records) io.out(line(record));
    return EXIT_OK;
  });
}

/** `--expect SEQ:HASH`: a record's seq and its 64 hex digit hash. */
export function parseExpectation(text: string | undefined): AuditExpectation | undefined {
  if (text === undefined) return undefined;
  const match = /^(\d+):([0-9a-f]{64})$/.exec(text);
  const seq = Number(match?.[1]);
  if (match === null || !Number.isSafeInteger(seq) || seq < 1)
    throw new UsageError(`--expect must be SEQ:HASH (a seq >= 1 and 64 lowercase hex digits), got '${text}'`);
  return { seq, hash: match[2] as string };
}

async function verify(argv: string[], io: CommandIo): Promise<number> {
  const { values, positionals } = parseCommandLine(argv, {
    ...ENDPOINTS_OPTION,
    ...JSON_OPTION,
    expect: { type: 'string' },
  });
  if (positionals.length > 0)
    throw new UsageError(`audit verify takes no arguments, got '${positionals.join(' ')}'`);
  const expect = parseExpectation(values.expect);
  return withReader(values, async (reader) => {
    const report = await reader.verify(expect === undefined ? {} : { expect });
    if (values.json === true) io.out(JSON.stringify(report));
    else
      for (const text of verifyReportLines(report)) {
        if (report.ok) io.out(text);
        else io.err(text);
      }
    return report.ok ? EXIT_OK : EXIT_FAILED;
  });
}

/** `meshos audit ...`; argv starts after `audit`. */
export async function auditCommand(argv: string[], io: CommandIo): Promise<number> {
  return runCommand(io, AUDIT_USAGE, () =>
    argv[0] === 'verify' ? verify(argv.slice(1), io) : listOrFollow(argv, io),
  );
}

/** `meshos actions`; argv starts after `actions`. */
export async function actionsCommand(argv: string[], io: CommandIo): Promise<number> {
  return runCommand(io, ACTIONS_USAGE, async () => {
    const { values, positionals } = parseCommandLine(argv, { ...ENDPOINTS_OPTION, ...JSON_OPTION });
    if (positionals.length > 0)
      throw new UsageError(`actions takes no arguments, got '${positionals.join(' ')}'`);
    return withReader(values, async (reader) => {
      const report = await reader.actions();
      if (values.json === true) {
        io.out(JSON.stringify(versioned(report)));
        return EXIT_OK;
      }
      const header = ['EPOCH', 'ID', 'STATE', 'QUEUED', 'LATENCY', 'DEFERRALS', 'ACTION', 'REASON'];
      for (const text of tableLines(header, report.actions.map(actionRow))) io.out(text);
      const counts = Object.entries(report.counts)
        .filter(([, count]) => count > 0)
        .map(([state, count]) => `${state} ${count}`);
      const { count, p50Ms, p99Ms, maxMs } = report.queueLatency;
      const latency =
        count === 0 ? 'no action dispatched' : `p50 ${p50Ms}ms, p99 ${p99Ms}ms, max ${maxMs}ms over ${count}`;
      io.out(`${counts.length === 0 ? 'no actions' : counts.join(', ')}; queue latency: ${latency}`);
      return EXIT_OK;
    });
  });
}
