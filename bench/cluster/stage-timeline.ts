import { readdir, readFile } from 'node:fs/promises';
import * as path from 'node:path';
import { percentile } from '../harness.js';

/**
 * `node dist/bench/cluster/stage-timeline.js DIRECTORY [--skip N]`: one client's puts taken apart
 * stage by stage, from the files `MESHOS_STAGE_TRACE=DIRECTORY` left (src/lib/node/stage-trace.ts:
 * the load generator's and every member's `stages-<pid>.tsv`, on one monotonic clock). Run a
 * one-client load with the variable set, e.g.
 * `MESHOS_STAGE_TRACE=/tmp/st node dist/bench/cluster/one-client-windows.js --preload-seconds 0`.
 *
 * Each put is a `client-sent`..`client-done` pair of the load generator with no other put in
 * between; its log index is the `proposed` one inside it. Every stage a process records inside the
 * put, at that index (or at none: index 0), is placed on the put's timeline as µs after
 * `client-sent`, by role: L the leader (it proposed), C a follower that took the client's call, F
 * the other followers (Fa, Fb by pid when there are two). A stage seen more than once in a put is
 * numbered (`sync-done#2`). Printed: each stage's median and 90th percentile over the puts, in
 * order of median, in how many puts it occurred (stages of index 0 recur with heartbeats), and
 * the median over puts of the time from the row above to it. For the order of stages and polls
 * within a process, whatever the load, add `MESHOS_STAGE_TRACE_MARKS=1` and `strace` a member.
 */

interface StageEvent {
  readonly atNs: bigint;
  readonly stage: string;
  readonly index: number;
}

async function readTraces(directory: string): Promise<Map<number, StageEvent[]>> {
  const byPid = new Map<number, StageEvent[]>();
  for (const name of await readdir(directory)) {
    const match = /^stages-(\d+)\.tsv$/.exec(name);
    if (match === null) continue;
    const events: StageEvent[] = [];
    for (const line of (await readFile(path.join(directory, name), 'utf8')).split('\n')) {
      const [at, stage, index] = line.split(' ');
      if (at === undefined || stage === undefined || index === undefined) continue;
      events.push({ atNs: BigInt(at), stage, index: Number(index) });
    }
    events.sort((a, b) => (a.atNs < b.atNs ? -1 : a.atNs > b.atNs ? 1 : 0));
    byPid.set(Number(match[1]), events);
  }
  return byPid;
}

interface Put {
  readonly sentNs: bigint;
  readonly doneNs: bigint;
}

/** The load generator's puts that had the cluster to themselves (no other put overlapped). */
function lonePuts(events: readonly StageEvent[]): Put[] {
  const puts: Put[] = [];
  let sentNs: bigint | undefined;
  let overlapped = false;
  for (const event of events) {
    if (event.stage === 'client-sent') {
      if (sentNs !== undefined) overlapped = true;
      else {
        sentNs = event.atNs;
        overlapped = false;
      }
    } else if (event.stage === 'client-done' && sentNs !== undefined) {
      if (!overlapped) puts.push({ sentNs, doneNs: event.atNs });
      sentNs = undefined;
    }
  }
  return puts;
}

function within(events: readonly StageEvent[], put: Put): StageEvent[] {
  // Binary search would do; the files hold a few hundred thousand lines at most.
  return events.filter((event) => event.atNs >= put.sentNs && event.atNs <= put.doneNs);
}

async function main(): Promise<void> {
  const directory = process.argv[2];
  if (directory === undefined) throw new Error('usage: stage-timeline.js DIRECTORY [--skip N]');
  const skipAt = process.argv.indexOf('--skip');
  const skip = skipAt > 0 ? Number(process.argv[skipAt + 1] ?? '0') : 0;
  const traces = await readTraces(directory);
  const generator = [...traces.entries()].find(([, events]) => events.some((e) => e.stage === 'client-sent'));
  if (generator === undefined) throw new Error('no load generator trace (client-sent) found');
  const members = [...traces.keys()].filter((pid) => pid !== generator[0]).sort((a, b) => a - b);
  const puts = lonePuts(generator[1]).slice(skip);
  const samples = new Map<string, number[]>();
  /** Per put: each label's time, for the steps between consecutive rows. */
  const perPut: Map<string, number>[] = [];
  let used = 0;
  let totalUs = 0;
  const totals: number[] = [];
  for (const put of puts) {
    const inside = new Map(members.map((pid) => [pid, within(traces.get(pid) ?? [], put)]));
    const leader = members.find((pid) => inside.get(pid)?.some((event) => event.stage === 'proposed'));
    if (leader === undefined) continue;
    const index = inside.get(leader)?.find((event) => event.stage === 'proposed')?.index ?? 0;
    const client = members.find((pid) => inside.get(pid)?.some((event) => event.stage === 'call-received'));
    const followers = members.filter((pid) => pid !== leader && pid !== client);
    const roleOf = (pid: number): string => {
      if (pid === leader) return 'L';
      if (pid === client) return 'C';
      return followers.length === 1 ? 'F' : `F${String.fromCharCode(97 + followers.indexOf(pid))}`;
    };
    used++;
    const putUs = Number(put.doneNs - put.sentNs) / 1_000;
    totalUs += putUs;
    totals.push(putUs);
    const times = new Map<string, number>();
    perPut.push(times);
    for (const pid of members) {
      const seen = new Map<string, number>();
      for (const event of inside.get(pid) ?? []) {
        if (event.index !== 0 && event.index !== index) continue;
        const count = (seen.get(event.stage) ?? 0) + 1;
        seen.set(event.stage, count);
        const label = `${roleOf(pid)} ${event.stage}${count > 1 ? `#${count}` : ''}`;
        let list = samples.get(label);
        if (list === undefined) {
          list = [];
          samples.set(label, list);
        }
        list.push(Number(event.atNs - put.sentNs) / 1_000);
        times.set(label, Number(event.atNs - put.sentNs) / 1_000);
      }
    }
  }
  if (used === 0) throw new Error('no put with a proposal inside it was found');
  const rows = [...samples.entries()]
    .map(([label, values]) => {
      const sorted = [...values].sort((a, b) => a - b);
      return { label, median: percentile(sorted, 0.5), p90: percentile(sorted, 0.9), count: values.length };
    })
    .filter((row) => row.count >= used / 4)
    .sort((a, b) => a.median - b.median);
  const sortedTotals = [...totals].sort((a, b) => a - b);
  console.log(
    `${used} puts (of ${puts.length} lone ones); client round trip µs: median ${percentile(sortedTotals, 0.5).toFixed(0)}, p90 ${percentile(sortedTotals, 0.9).toFixed(0)}, mean ${(totalUs / used).toFixed(0)}`,
  );
  console.log(
    'stage (role)                      median µs   p90 µs   in puts   step µs (median over puts, from the row above)',
  );
  let previous: string | undefined;
  for (const row of rows) {
    const steps: number[] = [];
    for (const times of perPut) {
      const at = times.get(row.label);
      const before = previous === undefined ? 0 : times.get(previous);
      if (at !== undefined && before !== undefined) steps.push(at - before);
    }
    steps.sort((a, b) => a - b);
    console.log(
      `${row.label.padEnd(32)} ${row.median.toFixed(0).padStart(9)} ${row.p90.toFixed(0).padStart(8)} ${String(row.count).padStart(9)} ${percentile(steps, 0.5).toFixed(0).padStart(9)}`,
    );
    previous = row.label;
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
