/** `meshos snapshot save FILE`: downloads a node's snapshot, showing progress, and writes it atomically. */
import { rename, writeFile } from 'node:fs/promises';
import {
  type CommandIo,
  ENDPOINTS_OPTION,
  EXIT_OK,
  endpointsFrom,
  parseCommandLine,
  runCommand,
  UsageError,
  withClient,
} from './common.js';

export const SNAPSHOT_USAGE = `usage:
  meshos snapshot save FILE
options:
  --endpoints a,b,c        client endpoints (default 127.0.0.1:2379); the leader's snapshot is taken
the file holds the snapshot data followed by its 32-byte SHA-256`;

/** Progress is reported each time another tenth of the snapshot has arrived. */
const PROGRESS_STEPS = 10;

/** `meshos snapshot ...`; argv starts after `snapshot`. */
export async function snapshotCommand(argv: string[], io: CommandIo): Promise<number> {
  return runCommand(io, SNAPSHOT_USAGE, async () => {
    const { values, positionals } = parseCommandLine(argv, { ...ENDPOINTS_OPTION });
    const [subcommand, file, ...extra] = positionals;
    if (subcommand !== 'save') {
      throw new UsageError(
        subcommand === undefined
          ? 'snapshot needs a subcommand'
          : `unknown snapshot subcommand '${subcommand}'`,
      );
    }
    if (file === undefined || extra.length > 0) throw new UsageError('snapshot save takes one FILE');
    return withClient(endpointsFrom(values.endpoints), async (client) => {
      let reportedStep = -1;
      const data = await client.snapshot({
        onProgress: (received, total) => {
          const step = total === 0 ? PROGRESS_STEPS : Math.floor((received / total) * PROGRESS_STEPS);
          if (step === reportedStep) return;
          reportedStep = step;
          io.err(`snapshot: ${received} of ${total} bytes (${Math.round((step * 100) / PROGRESS_STEPS)}%)`);
        },
      });
      // Written beside the target and renamed, so a crash never leaves a half file under FILE.
      const partial = `${file}.part`;
      await writeFile(partial, data);
      await rename(partial, file);
      io.out(`Snapshot saved at ${file} (${data.length} bytes)`);
      return EXIT_OK;
    });
  });
}
