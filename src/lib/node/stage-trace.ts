import { appendFileSync, writeSync } from 'node:fs';
import * as path from 'node:path';

/**
 * Stage timestamps of a write's trip through the members (client call received, proposed,
 * appended, synced, acknowledged, committed, applied, answered), for taking one client's put
 * latency apart across processes (`bench/cluster/stage-timeline.ts` joins them).
 *
 * Off unless `MESHOS_STAGE_TRACE` names a directory: then `traceStage` is a function and each
 * process appends lines `<monotonic ns> <stage> <log index or 0>` to `stages-<pid>.tsv` there,
 * about once a second and at exit. The clock is `process.hrtime` (CLOCK_MONOTONIC on Linux), one
 * clock for every process of the machine, so stages of different members line up. Off, it is
 * `undefined`: a call site costs one load and one comparison (`traceStage?.(...)`).
 */
export type TraceStage = (stage: string, index: number) => void;

const FLUSH_INTERVAL_MS = 1_000;
/** Lines held before a flush regardless of the timer, so memory stays bounded under load. */
const MAX_HELD_LINES = 50_000;

function stageTracer(directory: string): TraceStage {
  const file = path.join(directory, `stages-${process.pid}.tsv`);
  let held: string[] = [];
  const flush = (): void => {
    if (held.length === 0) return;
    const text = `${held.join('\n')}\n`;
    held = [];
    appendFileSync(file, text);
  };
  setInterval(flush, FLUSH_INTERVAL_MS).unref();
  process.on('exit', flush);
  return (stage, index) => {
    const line = `${process.hrtime.bigint()} ${stage} ${index}`;
    held.push(line);
    if (marks) markForStrace(line);
    if (held.length >= MAX_HELD_LINES) flush();
  };
}

/** A descriptor no process has open: a write to it fails at once, but `strace` shows it. */
const MARK_DESCRIPTOR = 999_999;
/**
 * With `MESHOS_STAGE_TRACE_MARKS=1`, each stage is also a failed `write` of its line to a closed
 * descriptor, which `strace` prints in order with the process's polls and socket writes: how
 * many polls of the event loop lie between two stages, whatever the machine's load.
 */
const marks = process.env.MESHOS_STAGE_TRACE_MARKS === '1';

function markForStrace(line: string): void {
  try {
    writeSync(MARK_DESCRIPTOR, line);
  } catch {
    // EBADF, as intended.
  }
}

const traceDirectory = process.env.MESHOS_STAGE_TRACE;

export const traceStage: TraceStage | undefined =
  traceDirectory === undefined || traceDirectory === '' ? undefined : stageTracer(traceDirectory);
