/**
 * `npm run fuzz`: garbage connections to the client and peer ports of a plaintext and a TLS node
 * (test/fuzz/support/connection-garbage.ts). FUZZ_SCALE multiplies the count; FUZZ_SEED replays.
 */
import { describeConnectionGarbage } from './support/connection-garbage.js';

const scale = Number(process.env.FUZZ_SCALE ?? '1');
if (!(scale > 0)) throw new Error(`FUZZ_SCALE ${process.env.FUZZ_SCALE} is not a positive number`);

describeConnectionGarbage({
  title: 'garbage connections',
  connections: Math.max(100, Math.round(20_000 * scale)),
  defaultSeed: Date.now() % 2 ** 31,
  timeoutMs: 60 * 60_000,
});
