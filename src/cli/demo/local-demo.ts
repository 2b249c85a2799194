/**
 * What `npm start` adds to the local cluster: once the cluster answers, the sample app (the
 * counter group and the chain, reused when they exist), its load, and a short summary of what
 * runs and what to try.
 */
import { MeshClient } from '../../client/index.js';
import type { CommandIo } from '../commands/index.js';
import type { LocalClusterOptions, LocalNodePlan } from '../local-cluster.js';
import { DEMO_EVENTS_PER_SECOND_PER_KEY, DEMO_LOAD_KEYS, DemoLoad } from './demo-load.js';
import { DEMO_CHAIN_NAME, DEMO_COUNTER_NAME, ensureSampleApp, type SampleApp } from './sample-app.js';

/** How long a starting cluster gets to take the deploy (a loaded 2-core machine is slow). */
export const DEMO_SETUP_TIMEOUT_MS = 120_000;

export interface RunningDemo {
  stop(): Promise<void>;
}

/** The Deck (the web dashboard) each node's admin port serves. */
export function deckUrl(admin: string): string {
  return `http://${admin}/deck`;
}

export function printTryLines(
  options: LocalClusterOptions,
  plans: readonly LocalNodePlan[],
  io: CommandIo,
  demo: boolean,
): void {
  const endpoints = plans.map((plan) => plan.client).join(',');
  io.out(`Deck: ${plans.map((plan) => deckUrl(plan.admin)).join('  ')}`);
  io.out('try:');
  if (demo) {
    io.out(`  npx meshos daemon state ${DEMO_COUNTER_NAME} --endpoints ${endpoints}`);
    io.out(`  npx meshos chain status ${DEMO_CHAIN_NAME} --endpoints ${endpoints}`);
    io.out(
      `  npx meshos demo failover${options.defaultRoot ? '' : ` --data ${options.root}`}    # kill -9 the counter's active node, measure, check`,
    );
  }
  io.out(`  ETCDCTL_API=3 etcdctl --endpoints=${endpoints} put greeting hello`);
  io.out('Ctrl-C stops everything.');
}

function summaryLines(app: SampleApp): string[] {
  const active = app.counter.members.find((member) => member.role === 'active');
  const standbys = app.counter.members
    .filter((member) => member.role !== 'active')
    .map((member) => `n${member.node}`);
  return [
    `demo: '${DEMO_COUNTER_NAME}' (${app.counterCreated ? 'deployed' : 'already deployed'}): a counter standby group, ` +
      `active on n${active?.node ?? '?'}, hot standbys on ${standbys.join(', ')}; ` +
      `chain '${DEMO_CHAIN_NAME}' (${app.chainCreated ? 'created' : 'reused'}, ${app.chain.replicas.length} replicas)`,
    `load: ${DEMO_LOAD_KEYS.length} keys (${DEMO_LOAD_KEYS.join(', ')}), ${DEMO_EVENTS_PER_SECOND_PER_KEY} events/s each, ` +
      `to '${DEMO_COUNTER_NAME}'; each counted event is appended to '${DEMO_CHAIN_NAME}'`,
  ];
}

/** Sets up the sample app in the background and starts its load; `stop()` ends both. */
export function startDemo(
  options: LocalClusterOptions,
  plans: readonly LocalNodePlan[],
  io: CommandIo,
): RunningDemo {
  const abort = new AbortController();
  let load: DemoLoad | undefined;
  let client: MeshClient | undefined;
  const setup = (async () => {
    client = await MeshClient.connect({ endpoints: plans.map((plan) => plan.client) });
    const app = await ensureSampleApp(client, Date.now() + DEMO_SETUP_TIMEOUT_MS, abort.signal);
    if (abort.signal.aborted) return;
    for (const line of summaryLines(app)) io.out(line);
    printTryLines(options, plans, io, true);
    load = new DemoLoad(client, io, String(Date.now()));
    load.start();
  })().catch((error: unknown) => {
    if (abort.signal.aborted) return;
    const code = (error as { code?: string }).code;
    io.err(
      `demo: ${code === undefined ? '' : `${code}: `}${error instanceof Error ? error.message : String(error)}`,
    );
    io.err('the cluster keeps running without the demo');
    printTryLines(options, plans, io, false);
  });
  return {
    async stop(): Promise<void> {
      abort.abort();
      await setup;
      await load?.stop();
      client?.close();
    },
  };
}
