import { parseArgs } from 'node:util';
import { HELD_DROP_STEP_RECORDS } from '../src/kv/limits.js';
import { MvccStore } from '../src/kv/mvcc.js';

/**
 * Dropping the history a snapshot's view held back, in one go against a step at a time: puts
 * cycle over `--keys` keys (256-byte values) while a view is open and compaction moves on, then
 * the view closes and the held records are dropped. Prints the longest drop step's wall and CPU
 * time and the total. Run: `node dist/bench/mvcc-held-drop.js [--held N] [--keys N] [--step N]`
 * (`--step 0`: in one go).
 */
const { values } = parseArgs({
  options: {
    held: { type: 'string', default: '100000' },
    keys: { type: 'string', default: '10000' },
    step: { type: 'string', default: String(HELD_DROP_STEP_RECORDS) },
  },
});
const held = Number(values.held);
const keys = Number(values.keys);
const stepRecords = Number(values.step) === 0 ? Number.POSITIVE_INFINITY : Number(values.step);
const VALUE = 'v'.repeat(256);
/** Revisions written before the view opens (compacted at once, nothing held). */
const WRITTEN_BEFORE_VIEW = 60_000;

const store = new MvccStore();
let written = 0;
const put = (): void => {
  store.begin();
  store.put(`bench/key/${String(written % keys).padStart(8, '0')}`, Buffer.from(`${VALUE}${written}`), 0);
  store.commit();
  written++;
};
for (let index = 0; index < WRITTEN_BEFORE_VIEW; index++) put();
store.compact(store.currentRevision - 1);
const view = store.openView();
for (let index = 0; index < held; index++) put();
store.compact(store.currentRevision - 1);
view.close();

const cpuMs = (): number => {
  const usage = process.cpuUsage();
  return (usage.user + usage.system) / 1000;
};
const steps: { wallMs: number; cpuMs: number }[] = [];
for (let finished = false; !finished; ) {
  const wallStart = performance.now();
  const cpuStart = cpuMs();
  finished = store.dropHeldHistory(stepRecords);
  steps.push({ wallMs: performance.now() - wallStart, cpuMs: cpuMs() - cpuStart });
}
const longest = steps.reduce((worst, step) => (step.wallMs > worst.wallMs ? step : worst));
const totalWallMs = steps.reduce((total, step) => total + step.wallMs, 0);
console.log(
  `${held} held records over ${keys} keys, ${Number.isFinite(stepRecords) ? `steps of ${stepRecords}` : 'one go'}: ` +
    `${steps.length} steps, longest ${longest.wallMs.toFixed(1)} ms wall (${longest.cpuMs.toFixed(1)} ms CPU), ` +
    `total ${totalWallMs.toFixed(1)} ms wall`,
);
