/**
 * `npm run deck:screenshots`: starts three `meshos start` nodes on free loopback ports (a
 * temporary data directory, plaintext), deploys a `tally` counter standby group and an `orders`
 * chain, sends some events, and saves the Deck's views from headless Chromium to docs/deck/*.png
 * (1280x800, the mesh view also at phone width, and the banner shown when the node goes away).
 * Needs Debian's `chromium` (CHROMIUM=path to use another).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, rmSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { chromium, type Page } from 'playwright-core';
import { MeshClient } from '../src/client/index.js';

const NODES = 3;
const DAEMON = 'tally';
const CHAIN = 'orders';
const EVENTS = 40;
const STEP_TIMEOUT_MS = 120_000;
const RETRY_INTERVAL_MS = 500;
const OUTPUT = path.resolve('docs', 'deck');

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address !== null ? address.port : 0));
    });
  });
}

/** Tries `step` until it answers, for at most STEP_TIMEOUT_MS (the mesh settles after start). */
async function retried<T>(what: string, step: () => Promise<T>): Promise<T> {
  const deadline = Date.now() + STEP_TIMEOUT_MS;
  for (;;) {
    try {
      return await step();
    } catch (error) {
      if (Date.now() > deadline) throw new Error(`${what}: ${(error as Error).message}`);
      await new Promise((resolve) => setTimeout(resolve, RETRY_INTERVAL_MS));
    }
  }
}

interface Node {
  readonly id: number;
  readonly peer: number;
  readonly client: number;
  readonly admin: number;
  process?: ChildProcess;
}

function startNode(node: Node, nodes: readonly Node[], root: string): void {
  node.process = spawn(
    process.execPath,
    [
      path.resolve('dist/src/cli/main.js'),
      'start',
      '--id',
      String(node.id),
      '--data',
      path.join(root, `n${node.id}`),
      '--peers',
      nodes.map((other) => `${other.id}=127.0.0.1:${other.peer}`).join(','),
      '--client-listen',
      `127.0.0.1:${node.client}`,
      '--admin-listen',
      `127.0.0.1:${node.admin}`,
      '--cluster',
      'deck-screenshots',
      '--insecure',
    ],
    { stdio: 'ignore' },
  );
}

async function shoot(page: Page, view: string, file: string, selector: string): Promise<void> {
  await page.evaluate(`window.location.hash = '${view}'`);
  await page.waitForSelector(selector, { timeout: STEP_TIMEOUT_MS });
  await page.screenshot({ path: path.join(OUTPUT, file), fullPage: false });
  console.log(`saved docs/deck/${file}`);
}

const root = await mkdtemp(path.join(os.tmpdir(), 'meshos-deck-'));
const nodes: Node[] = [];
for (let id = 1; id <= NODES; id++)
  nodes.push({ id, peer: await freePort(), client: await freePort(), admin: await freePort() });
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
  args: ['--no-sandbox'],
});
try {
  for (const node of nodes) startNode(node, nodes, root);
  const client = await MeshClient.connect({ endpoints: nodes.map((node) => `127.0.0.1:${node.client}`) });
  try {
    await retried('deploy', () =>
      client.daemons
        .deploy(DAEMON, { kind: 'counter', group: 'standby', members: 2 })
        .catch(async (error) => {
          if ((error as { code?: string }).code === 'DAEMON_EXISTS') return client.daemons.status(DAEMON);
          throw error;
        }),
    );
    await retried('chain create', () =>
      client.chains.create(CHAIN, { replicas: 2 }).catch(async (error) => {
        if ((error as { code?: string }).code === 'CHAIN_EXISTS') return client.chains.status(CHAIN);
        throw error;
      }),
    );
    for (let event = 1; event <= EVENTS; event++) {
      await retried('send', () => client.daemons.send(DAEMON, new TextEncoder().encode(String(event))));
      await retried('append', () =>
        client.chains.append(CHAIN, [new TextEncoder().encode(`order ${event}`)]),
      );
    }
  } finally {
    await client.close();
  }
  mkdirSync(OUTPUT, { recursive: true });
  const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  await page.goto(`http://127.0.0.1:${nodes[0]!.admin}/deck#mesh`);
  await page.waitForFunction(
    'document.querySelectorAll(\'tr[data-node][data-health="alive"]\').length === 3',
    null,
    {
      timeout: STEP_TIMEOUT_MS,
    },
  );
  await shoot(page, 'mesh', 'mesh.png', 'svg.rtt-graph [data-graph-node]');
  await shoot(page, 'consensus', 'consensus.png', '[data-consensus-leader]');
  await shoot(page, 'daemons', 'daemons.png', `[data-daemon="${DAEMON}"]`);
  await shoot(page, 'chains', 'chains.png', `[data-chain="${CHAIN}"]`);
  await shoot(page, 'reconcile', 'reconcile.png', '[data-view="reconcile"]');
  await page.evaluate("window.location.hash = 'mesh'");
  await page.click('tr[data-node="3"] button[data-action="enter"]');
  await page.waitForSelector('[data-confirm]');
  await page.screenshot({ path: path.join(OUTPUT, 'confirm.png') });
  console.log('saved docs/deck/confirm.png');
  await page.click('.dialog button.secondary');
  const phone = await browser.newPage({ viewport: { width: 390, height: 844 }, deviceScaleFactor: 2 });
  await phone.goto(`http://127.0.0.1:${nodes[0]!.admin}/deck#mesh`);
  await phone.waitForSelector('svg.rtt-graph [data-graph-node]', { timeout: STEP_TIMEOUT_MS });
  await phone.screenshot({ path: path.join(OUTPUT, 'mesh-phone.png'), fullPage: true });
  console.log('saved docs/deck/mesh-phone.png');
  nodes[0]!.process?.kill('SIGKILL');
  await page.waitForSelector('#unreachable', { timeout: STEP_TIMEOUT_MS });
  await page.screenshot({ path: path.join(OUTPUT, 'unreachable.png') });
  console.log('saved docs/deck/unreachable.png');
} finally {
  await browser.close();
  for (const node of nodes) node.process?.kill('SIGTERM');
  await Promise.all(
    nodes.map(
      (node) =>
        new Promise<void>((resolve) => {
          const child = node.process;
          if (child === undefined || child.exitCode !== null || child.signalCode !== null) resolve();
          else child.once('exit', () => resolve());
        }),
    ),
  );
  rmSync(root, { recursive: true, force: true });
}
