/**
 * The Deck in real headless Chromium (Debian's `chromium` driven by playwright-core) against 3
 * `meshos start` processes with a `tally` counter standby group of 2 and an `orders` chain:
 *
 * - every admin document a live node serves, and the CLI's `--json` documents, fit the schema;
 *   a member count asked for with `meshos daemon scale` shows in `daemon status` and on the page;
 * - the page shows the three nodes and the Raft leader; a drain asked and confirmed on the page
 *   puts the node into maintenance (as the CLI sees it), and exit brings it back;
 * - kill -9 of the active's node: without a reload the page shows its health flip and the active
 *   moving to the standby; the node serving the page killed, the page says it is unreachable and
 *   recovers when the node is back.
 */
import { type Browser, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fetchAdminJson } from '../../src/cli/admin-json.js';
import { ADMIN_SCHEMA, schemaProblems } from '../../src/mesh/index.js';
import { clientOf, createChain } from '../cluster/chain-cluster.js';
import { type DaemonCluster, startDaemonCluster } from '../cluster/daemon-cluster.js';
import { exitCode, meshos } from '../cluster/meshos-process.js';
import { until } from '../support/until.js';

const CHROMIUM = '/usr/bin/chromium';
const DAEMON = 'tally';
const CHAIN = 'orders';
const SETUP_TIMEOUT_MS = 240_000;
const TEST_TIMEOUT_MS = 300_000;
/** Conditions on a loaded 2-core machine: a lease to expire, a failover, a node to restart. */
const CONDITION_TIMEOUT_MS = 90_000;
const CALL_TIMEOUT_MS = 5_000;
/** A CLI process (a node's start-up cost) took over 30 s at load 28 on 2 cores. */
const CLI_TIMEOUT_MS = 90_000;

describe('the Deck in headless Chromium', () => {
  let mesh: DaemonCluster;
  let browser: Browser;

  beforeAll(async () => {
    mesh = await startDaemonCluster(3);
    await mesh.deploy(1, DAEMON, 'counter', 'GROUP_STANDBY', 2, CALL_TIMEOUT_MS);
    const client = await clientOf(mesh.cluster, 1);
    try {
      await createChain(client, CHAIN, 2);
    } finally {
      await client.close();
    }
    for (let event = 1; event <= 5; event++) await mesh.client(1).send(DAEMON, `${event}`, CALL_TIMEOUT_MS);
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
  }, SETUP_TIMEOUT_MS);

  afterAll(async () => {
    await browser?.close();
    await mesh?.stop();
  }, 60_000);

  const admin = (id: number): string => mesh.cluster.plan(id).admin;

  async function openDeck(id: number, view = 'mesh'): Promise<Page> {
    const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    await page.goto(`http://${admin(id)}/deck#${view}`);
    return page;
  }

  /** `meshos ARGS --json` through node 1's client port: the JSON it printed. */
  async function cliJson(args: readonly string[], via = 1): Promise<unknown> {
    const running = meshos([...args, '--json', '--endpoints', mesh.cluster.plan(via).client]);
    expect(await exitCode(running, CLI_TIMEOUT_MS)).toBe(0);
    const line = running
      .output()
      .split('\n')
      .filter((text) => text.startsWith('{'))
      .pop();
    return JSON.parse(line ?? 'null');
  }

  it(
    'serves documents that fit the schema, and the CLI prints the same documents',
    async () => {
      const paths = Object.keys(ADMIN_SCHEMA).filter((path) => path.startsWith('/'));
      let problems: string[] = [];
      await until(
        async () => {
          problems = [];
          for (const path of paths) {
            const document = await fetchAdminJson(admin(1), path, CALL_TIMEOUT_MS);
            problems.push(...schemaProblems(ADMIN_SCHEMA[path]!, document, path));
          }
          return problems.length === 0;
        },
        `every document to fit the schema (last problems: ${problems.join('; ')})`,
        CONDITION_TIMEOUT_MS,
      ).catch((error: Error) => {
        throw new Error(`${error.message}: ${problems.join('; ')}`);
      });
      const snapshot = (await fetchAdminJson(admin(1), '/deck/snapshot', CALL_TIMEOUT_MS)) as {
        nodes: { nodes: unknown[] };
        daemons: { daemons: { name: string }[] };
        chains: { chains: { name: string }[] };
        consensus: { members: { id: number; commit?: number; applied?: number }[] };
      };
      expect(snapshot.nodes.nodes).toHaveLength(3);
      // Each voter's own commit and applied index, not only the answering node's.
      expect(snapshot.consensus.members).toHaveLength(3);
      for (const member of snapshot.consensus.members) {
        expect(member.commit, `commit of node ${member.id}`).toBeGreaterThan(0);
        expect(member.applied, `applied of node ${member.id}`).toBeGreaterThan(0);
      }
      expect(snapshot.daemons.daemons.map((daemon) => daemon.name)).toContain(DAEMON);
      expect(snapshot.chains.chains.map((chain) => chain.name)).toContain(CHAIN);
      expect(schemaProblems(ADMIN_SCHEMA.actions!, await cliJson(['actions']))).toEqual([]);
      expect(
        schemaProblems(
          ADMIN_SCHEMA['maintenance-status']!,
          await cliJson(['node', 'maintenance', 'status', '2']),
        ),
      ).toEqual([]);
      const bad = await fetch(`http://${admin(1)}/actions/maintenance`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ node: 'two', target: 'sideways' }),
      });
      expect(bad.status).toBe(400);
      expect(await bad.json()).toMatchObject({ code: 'VALIDATION_FAILED' });

      // The count an operator asked for (the count placed, so reconcile has nothing to do) shows
      // in the daemon's status document and on the page.
      expect(await cliJson(['daemon', 'scale', DAEMON, '--members', '2'])).toMatchObject({
        members: 2,
        placed: 2,
      });
      const scaled = await cliJson(['daemon', 'status', DAEMON]);
      expect(scaled).toMatchObject({ name: DAEMON, desiredMembers: 2 });
      const page = await openDeck(1, 'daemons');
      try {
        const shown = page.locator(`[data-daemon="${DAEMON}"] [data-desired-members]`);
        await shown.waitFor({ timeout: CONDITION_TIMEOUT_MS });
        expect(await shown.textContent()).toBe('2 (2 placed)');
      } finally {
        await page.close();
      }
      const daemons = await fetchAdminJson(admin(1), '/daemons', CALL_TIMEOUT_MS);
      expect(schemaProblems(ADMIN_SCHEMA['/daemons']!, daemons)).toEqual([]);
    },
    TEST_TIMEOUT_MS,
  );

  it(
    'shows the three nodes and the leader; a drain confirmed on the page reaches the mesh',
    async () => {
      const page = await openDeck(1);
      try {
        await page.waitForFunction("document.querySelectorAll('tr[data-node]').length === 3", null, {
          timeout: CONDITION_TIMEOUT_MS,
        });
        const leader = await mesh.cluster.waitForLeader(CONDITION_TIMEOUT_MS);
        await page.waitForSelector(`tr[data-node="${leader}"] [data-leader]`, {
          timeout: CONDITION_TIMEOUT_MS,
        });
        expect(await page.locator('[data-leader]').count()).toBe(1);
        expect(await page.locator('svg.rtt-graph [data-graph-node]').count()).toBe(3);

        const target = 3;
        await page.click(`tr[data-node="${target}"] button[data-action="enter"]`);
        await page.click('[data-confirm]');
        const phase = async (): Promise<string> =>
          ((await cliJson(['node', 'maintenance', 'status', String(target)])) as { state: { phase: string } })
            .state.phase;
        await until(
          async () => (await phase()) !== 'Active',
          'the CLI to see node 3 leave Active',
          CONDITION_TIMEOUT_MS,
        );
        await page.waitForSelector(
          `tr[data-node="${target}"]:not([data-phase="Active"]) button[data-action="exit"]`,
          {
            timeout: CONDITION_TIMEOUT_MS,
          },
        );
        await page.click(`tr[data-node="${target}"] button[data-action="exit"]`);
        await page.click('[data-confirm]');
        await until(
          async () => ['ExitingMaintenance', 'Recovery', 'Active'].includes(await phase()),
          'the CLI to see node 3 asked back',
          CONDITION_TIMEOUT_MS,
        );
      } finally {
        await page.close();
      }
    },
    TEST_TIMEOUT_MS,
  );

  it(
    'shows a killed node, the failover and its own node going and coming back, without a reload',
    async () => {
      await mesh.awaitStatus(
        DAEMON,
        mesh.ids,
        'a healthy active and standby',
        CONDITION_TIMEOUT_MS,
        (status) =>
          ['ROLE_ACTIVE', 'ROLE_STANDBY'].every((role) =>
            status.members.some((member) => member.role === role && member.healthy),
          ),
      );
      const status = await mesh.statusVia(DAEMON, mesh.ids, CALL_TIMEOUT_MS);
      const active = status?.members.find((member) => member.role === 'ROLE_ACTIVE')?.node;
      expect(active).toBeDefined();
      const served = mesh.ids.find((id) => id !== active)!;
      const page = await openDeck(served);
      try {
        await page.waitForSelector(`tr[data-node="${active}"][data-health="alive"]`, {
          timeout: CONDITION_TIMEOUT_MS,
        });
        // A reload would lose this: the checks below see the same page throughout.
        await page.evaluate('window.deckMarker = 1');
        await mesh.cluster.kill(active!);
        await page.waitForSelector(`tr[data-node="${active}"]:not([data-health="alive"])`, {
          timeout: CONDITION_TIMEOUT_MS,
        });
        await page.click('nav a[href="#daemons"]');
        await page.waitForSelector(
          `[data-daemon="${DAEMON}"]:not([data-active-node="${active}"]):not([data-active-node="0"])`,
          { timeout: CONDITION_TIMEOUT_MS },
        );
        mesh.cluster.start(active!);
        await mesh.cluster.kill(served);
        await page.waitForSelector('#unreachable', { timeout: CONDITION_TIMEOUT_MS });
        expect(await page.getAttribute('[data-live]', 'data-live')).toBe('no');
        mesh.cluster.start(served);
        await page.waitForSelector('[data-live="yes"]', { timeout: CONDITION_TIMEOUT_MS });
        expect(await page.locator('#unreachable').count()).toBe(0);
        expect(await page.evaluate('window.deckMarker')).toBe(1);
      } finally {
        await page.close();
      }
    },
    TEST_TIMEOUT_MS,
  );
});
