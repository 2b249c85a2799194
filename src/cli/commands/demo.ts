/** `meshos demo failover`: the demonstration `npm start` sets up, run against its local cluster. */
import * as path from 'node:path';
import { failoverReportLines, runFailoverDemo } from '../demo/failover.js';
import { DEMO_COUNTER_NAME } from '../demo/sample-app.js';
import { LOCAL_DATA_DIRECTORY } from '../local-cluster.js';
import { readLocalClusterRecord } from '../local-cluster-record.js';
import {
  type CommandIo,
  EXIT_FAILED,
  EXIT_OK,
  endpointsFrom,
  JSON_OPTION,
  parseCommandLine,
  runSubcommand,
  type Subcommands,
  UsageError,
  withClient,
} from './common.js';

export const DEMO_USAGE = `usage:
  meshos demo failover [--data DIR] [--endpoints a,b,c] [--daemon NAME] [--json]
    against the running \`npm start\` cluster: kills (SIGKILL) the node of the counter group's
    active member while events flow, prints the failover gap (from the kill to the promoted
    standby's first acknowledged event) and whether the counter counted every acknowledged
    event exactly once, then waits until the cluster has started the node again and it rejoined.
    Exit code 1 when an event was lost or counted twice, or the node did not rejoin.
options:
  --data DIR           the local cluster's data folder (default ./${LOCAL_DATA_DIRECTORY}): its
                       local-cluster.json names the endpoints and each node's process
  --endpoints a,b,c    client endpoints (default: the local cluster's)
  --daemon NAME        the standby group to fail over (default ${DEMO_COUNTER_NAME}; a counter)
  --json               the report as one JSON object`;

async function failover(argv: string[], io: CommandIo): Promise<number> {
  const { values, positionals } = parseCommandLine(argv, {
    ...JSON_OPTION,
    data: { type: 'string', default: LOCAL_DATA_DIRECTORY },
    endpoints: { type: 'string' },
    daemon: { type: 'string', default: DEMO_COUNTER_NAME },
  });
  if (positionals.length > 0) throw new UsageError(`failover takes no arguments, got '${positionals[0]}'`);
  const root = path.resolve(values.data);
  const endpoints =
    values.endpoints === undefined
      ? readLocalClusterRecord(root).nodes.map((node) => node.client)
      : endpointsFrom(values.endpoints);
  const progress = values.json === true ? () => {} : io.out;
  const report = await withClient({ endpoints }, (client) =>
    runFailoverDemo(client, { root, endpoints, daemon: values.daemon }, progress),
  );
  if (values.json === true) io.out(JSON.stringify(report));
  else for (const line of failoverReportLines(report)) io.out(line);
  return report.ok ? EXIT_OK : EXIT_FAILED;
}

const SUBCOMMANDS: Subcommands = { failover };

/** `meshos demo ...`; argv starts after `demo`. */
export async function demoCommand(argv: string[], io: CommandIo): Promise<number> {
  return runSubcommand('demo', DEMO_USAGE, SUBCOMMANDS, argv, io);
}
