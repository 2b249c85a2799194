import type { ChainsBackend } from '../api/index.js';
import { inboundChainName } from '../daemons/chain-names.js';
import { isForkRecord } from '../daemons/fork-record.js';
import { decodeJournalState } from '../daemons/kinds/index.js';
import type { ApplyOutcome } from '../daemons/member-core.js';
import { decodeInboundEventRecord } from '../daemons/record-codec.js';
import { replicaForKey } from '../daemons/replica-routing.js';
import type { NodeId, Random } from '../lib/index.js';
import type { DaemonMember } from '../mesh/daemon-member.js';
import type { DaemonsNode } from '../mesh/daemon-node.js';
import { lastOutputInboundOffset } from '../mesh/daemon-output-writer.js';
import { readOutputs } from '../mesh/daemon-outputs.js';
import {
  type DaemonSendOperation,
  daemonJournalProblems,
  forkJournalProblems,
  replicaJournalProblems,
} from './daemon-history.js';
import type { RunPartEnvironment } from './sim-chain-run.js';
import type { ChainProcess } from './sim-chains.js';
import { SimChannelLinks } from './sim-channel-links.js';
import {
  type DaemonLane,
  type DaemonPlan,
  daemonPlans,
  lanesOf,
  type SimDaemonGroup,
} from './sim-daemon-plans.js';
import {
  type DaemonClientEnvironment,
  DaemonDeployer,
  DaemonSender,
  ForkDeployer,
  type SimDeploy,
} from './sim-daemon-workload.js';
import { SimDaemons, type UnsafeMemberReads } from './sim-daemons.js';
import { SimHealthView } from './sim-health-view.js';

const SENDERS_PER_DAEMON = 3;
/** Events sent to a fork's parent before the fork is deployed (drawn between these). */
const FORK_PREFIX_EVENTS_MIN = 2;
const FORK_PREFIX_EVENTS_MAX = 12;
/** Keys tried for a replica member's liveness probe until one routes to it. */
const MAX_PROBE_KEYS = 1_000;
/**
 * Every so often in the fault phase a daemon's active is struck: paused (longer than the
 * others wait before they suspect it, sometimes), cut off, or crashed; a standby is promoted
 * while the old active may still run, and the epoch rule must fence what it still appends.
 */
const DAEMON_CHAOS_EVERY_MIN_US = 800_000;
const DAEMON_CHAOS_EVERY_MAX_US = 2_500_000;
const ACTIVE_PAUSE_MIN_US = 300_000;
const ACTIVE_PAUSE_MAX_US = 2_000_000;
const ACTIVE_ISOLATION_MIN_US = 800_000;
const ACTIVE_ISOLATION_MAX_US = 2_500_000;
/** Daemons are deployed before the faults begin; this long at most. */
export const DAEMON_DEPLOY_BOUND_US = 20_000_000;
/** Senders get this long after healing to finish the event they were sending. */
const DAEMON_SETTLE_BOUND_US = 10_000_000;
/** After healing, each daemon must acknowledge a fresh event within this long. */
const DAEMON_LIVENESS_BOUND_US = 20_000_000;
/** Every member must have applied through the liveness event within this long after it. */
const DAEMON_CONVERGE_BOUND_US = 10_000_000;
const CONVERGE_POLL_US = 100_000;
/** Records read per step when the end check reads an inbound chain. */
const READ_RECORDS = 4_096;
const READ_BYTES = 64 * 1024 * 1024;

const decoder = new TextDecoder();

/** What the simulation lends the daemons part of a run. */
export interface DaemonRunEnvironment extends RunPartEnvironment {
  readonly unsafeMemberReads?: UnsafeMemberReads;
  /** The group kinds deployed (default standby groups only). */
  readonly groups?: readonly SimDaemonGroup[];
  /** The chains' stand-in RTTs (read once the chains exist). */
  rttMs(from: NodeId, to: NodeId): number;
  /** The chains of a node's running process (their backend is what the daemons run on). */
  chainsOf(node: NodeId): ChainProcess | undefined;
  /** Stops a node's process for a while (the chaos's pause, counted as one). */
  pause(node: NodeId, durationUs: number): void;
  /** Crashes a node (unless a majority would be down); it restarts after a downtime. */
  crash(node: NodeId): void;
}

export interface DaemonRunReport {
  readonly daemons: readonly string[];
  /** Events acknowledged to senders (`ok` in the history). */
  readonly acknowledgedEvents: number;
  readonly unknownEvents: number;
  readonly failedEvents: number;
  /** The highest daemon epoch any member reached (1: no failover). */
  readonly highestEpoch: number;
  /** Strikes at a daemon's active (pause, cut-off, crash). */
  readonly activeStrikes: number;
  /** Member outcomes compared across members (offset by offset). */
  readonly outcomesCompared: number;
  /** Inbound records the members refused (the epoch rule fenced an old active's append). */
  readonly fencedEvents: number;
  /** Replica members whose journals the end checks held against the events routed to them. */
  readonly replicaMembersChecked: number;
  /** Parent events the forks' journals were checked to start with (their fork points' prefixes). */
  readonly forkPrefixEvents: number;
  /** Output chains checked against a member's outcomes at the end (one per lane, when it could be). */
  readonly outputStreamsChecked: number;
  readonly history: readonly DaemonSendOperation[];
}

/** An outcome as members must agree on it. */
function outcomeKey(outcome: ApplyOutcome): string {
  switch (outcome.type) {
    case 'applied':
      return outcome.duplicate ? 'duplicate' : 'applied';
    case 'refused':
      return 'refused';
    case 'failed':
      return `failed ${outcome.code}`;
  }
}

/**
 * The daemons part of a simulated run (docs/SIMULATION.md "Daemons"): the production daemons
 * service on every machine (`SimDaemons`) over the run's chains, `journal` standby groups
 * deployed through the nodes' requests, senders recording a history, strikes at the actives,
 * the checks while the run goes, a liveness phase after healing, and the end check of every
 * member's journal against the history.
 */
export class DaemonRun {
  readonly daemons: SimDaemons;
  readonly history: DaemonSendOperation[] = [];
  private readonly plans: readonly DaemonPlan[];
  private readonly health: SimHealthView;
  private readonly client: DaemonClientEnvironment;
  private readonly deploys = new Map<string, SimDeploy>();
  private readonly senders: DaemonSender[] = [];
  /** `lane/epoch` -> the node seen active in it, or acknowledged appending in it. */
  private readonly activeByEpoch = new Map<string, NodeId>();
  /** `lane/offset` -> the outcome the first member to report it had, and on which node. */
  private readonly outcomes = new Map<string, { readonly key: string; readonly node: NodeId }>();
  private readonly checkedThrough = new WeakMap<DaemonMember, number>();
  private readonly checking = new WeakSet<DaemonMember>();
  private outcomesCompared = 0;
  private fencedEvents = 0;
  private highestEpoch = 1;
  private activeStrikes = 0;
  private replicaMembersChecked = 0;
  private forkPrefixEvents = 0;
  private outputStreamsChecked = 0;
  private chaosActive = false;

  constructor(private readonly environment: DaemonRunEnvironment) {
    const { scheduler, network } = environment;
    this.plans = daemonPlans(environment.groups ?? ['standby']);
    this.health = new SimHealthView(scheduler, network, environment.nodes);
    this.daemons = new SimDaemons({
      links: new SimChannelLinks(scheduler, network, 'daemons', () => DAEMON_FRAME),
      health: this.health,
      rttMs: (from, to) => environment.rttMs(from, to),
      observer: {
        onInboundAcknowledged: (chain, node, epochs) => {
          const lane = this.lanes().find((candidate) => candidate.inbound === chain);
          if (lane !== undefined)
            for (const epoch of epochs) this.onActive(lane, epoch, node, 'had events acknowledged');
        },
      },
      ...(environment.unsafeMemberReads === undefined
        ? {}
        : { unsafeMemberReads: environment.unsafeMemberReads }),
    });
    const nodeIds = (): NodeId[] => environment.nodes.map((node) => node.id);
    this.client = {
      scheduler,
      get nodeIds() {
        return nodeIds();
      },
      daemonsOf: (process, daemon) => this.daemons.requireOf(process, daemon),
      request: (node, work, answer) => environment.channels.requestProcess(node, work, answer, true),
      record: (operation) => {
        this.history.push(operation);
        environment.trace.record(JSON.stringify(operation));
      },
      trace: (line) => environment.trace.record(line),
    };
  }

  /** Members `plan` is deployed with: what it wants, at most one per node. */
  private memberCount(plan: DaemonPlan): number {
    return Math.min(plan.members, this.environment.nodes.length);
  }

  private lanes(): DaemonLane[] {
    return this.plans.flatMap((plan) => lanesOf(plan, this.memberCount(plan)));
  }

  /** Draws the deploys and senders once the machines exist. */
  plan(): void {
    const { random } = this.environment;
    for (const plan of this.plans) {
      const input = { name: plan.name, kind: 'journal', members: this.memberCount(plan) };
      const deployRandom = random.fork(`deploy-${plan.name}`);
      const parent = plan.parent === undefined ? undefined : this.deploys.get(plan.parent);
      if (plan.parent !== undefined && parent !== undefined) {
        const prefix = new DaemonSender(
          `${plan.parent}-before-${plan.name}`,
          plan.parent,
          this.client,
          random.fork(`prefix-${plan.name}`),
        );
        const events = deployRandom.nextIntBetween(FORK_PREFIX_EVENTS_MIN, FORK_PREFIX_EVENTS_MAX);
        this.deploys.set(
          plan.name,
          new ForkDeployer(
            this.client,
            input,
            { name: plan.parent, deploy: parent },
            prefix,
            events,
            deployRandom,
          ),
        );
      } else {
        const group = plan.group === 'replica' ? 'replica' : 'standby';
        this.deploys.set(plan.name, new DaemonDeployer(this.client, { ...input, group }, deployRandom));
      }
      for (let sender = 0; sender < SENDERS_PER_DAEMON; sender++) {
        const client = `${plan.name}-s${sender}`;
        // A replica group's last sender sends without keys: its events are routed by its client id.
        const routing =
          plan.keys === undefined ? undefined : { keys: sender === SENDERS_PER_DAEMON - 1 ? [] : plan.keys };
        this.senders.push(new DaemonSender(client, plan.name, this.client, random.fork(client), routing));
      }
    }
  }

  /** Deploys the daemons through the nodes' requests (before the faults begin). */
  deploy(): void {
    this.health.start();
    for (const deploy of this.deploys.values()) deploy.start();
  }

  get deployed(): boolean {
    return [...this.deploys.values()].every((deploy) => deploy.done);
  }

  /** The fault phase's workload and strikes at the actives. */
  start(): void {
    for (const sender of this.senders) sender.start();
    this.chaosActive = true;
    this.scheduleStrike(this.environment.random.fork('daemon-chaos'));
  }

  private scheduleStrike(random: Random): void {
    this.environment.scheduler.schedule(
      random.nextIntBetween(DAEMON_CHAOS_EVERY_MIN_US, DAEMON_CHAOS_EVERY_MAX_US),
      'daemon chaos',
      () => {
        if (!this.chaosActive) return;
        this.strike(random);
        this.scheduleStrike(random);
      },
    );
  }

  /** Pauses, cuts off or crashes the node of a random daemon's active (a replica group's: a member's). */
  private strike(random: Random): void {
    const plan = this.plans[random.nextInt(this.plans.length)]!;
    const active =
      plan.group === 'replica' ? this.anyMemberNode(plan.name, random) : this.activeNode(plan.name);
    if (active === undefined) {
      this.environment.trace.record(
        `daemon chaos: no active of ${plan.name} runs: ${this.describeLanes(plan.name)}`,
      );
      return;
    }
    this.activeStrikes++;
    const { environment } = this;
    const action = random.nextInt(3);
    environment.trace.record(`daemon chaos: strike ${plan.name}'s active on node ${active} (${action})`);
    if (action === 0)
      environment.pause(active, random.nextIntBetween(ACTIVE_PAUSE_MIN_US, ACTIVE_PAUSE_MAX_US));
    else if (action === 1)
      environment.isolate(active, random.nextIntBetween(ACTIVE_ISOLATION_MIN_US, ACTIVE_ISOLATION_MAX_US));
    else environment.crash(active);
  }

  /** The node whose member of `daemon` is active in the highest epoch any running member knows. */
  private activeNode(daemon: string): NodeId | undefined {
    let best: { node: NodeId; epoch: number } | undefined;
    for (const [node, member] of this.runningMembers(daemon))
      if (member.active && (best === undefined || member.epoch > best.epoch))
        best = { node, epoch: member.epoch };
    return best?.node;
  }

  /** The node of a random running member of `daemon` (every replica member serves events). */
  private anyMemberNode(daemon: string, random: Random): NodeId | undefined {
    const nodes = [...this.runningMembers(daemon)].map(([node]) => node);
    return nodes.length === 0 ? undefined : nodes[random.nextInt(nodes.length)];
  }

  /** The members of `daemon` on running, unpaused processes. */
  private *runningMembers(daemon: string): Generator<[NodeId, DaemonMember]> {
    for (const [node, daemons] of this.runningDaemons()) {
      const member = daemons.members.get(daemon);
      if (member !== undefined) yield [node, member];
    }
  }

  /** The running members that follow `lane`'s chain. */
  private *laneMembers(lane: DaemonLane): Generator<[NodeId, DaemonMember]> {
    for (const [node, member] of this.runningMembers(lane.plan.name))
      if (lane.member === undefined || member.index === lane.member) yield [node, member];
  }

  private *runningDaemons(): Generator<[NodeId, DaemonsNode]> {
    const nowUs = this.environment.scheduler.nowUs;
    for (const node of this.environment.nodes) {
      const process = node.process;
      const daemons = this.daemons.processOf(node.id);
      if (process === undefined || daemons === undefined || process.life.pausedUntilUs > nowUs) continue;
      yield [node.id, daemons];
    }
  }

  /** Faults are over: senders finish what they started and stop. */
  heal(): void {
    this.chaosActive = false;
    for (const sender of this.senders) sender.running = false;
  }

  /**
   * One active per epoch and chain: `node` acted as the active of `lane` (a group's chain, or a
   * replica member's) in `epoch`.
   */
  private onActive(lane: DaemonLane, epoch: number, node: NodeId, what: string): void {
    this.highestEpoch = Math.max(this.highestEpoch, epoch);
    const key = `${lane.label}/${epoch}`;
    const earlier = this.activeByEpoch.get(key);
    if (earlier === undefined) this.activeByEpoch.set(key, node);
    else if (earlier !== node)
      this.environment.fail(
        'daemon-one-active-per-epoch',
        `daemon ${lane.label}: nodes ${earlier} and ${node} both acted as its active in epoch ${epoch} (node ${node} ${what})`,
      );
  }

  /** The checks while the run goes: one active per epoch, members agree on every outcome. */
  check(): void {
    for (const lane of this.lanes())
      for (const [node, member] of this.laneMembers(lane)) {
        if (member.active) this.onActive(lane, member.epoch, node, 'runs as active');
        if (!this.checking.has(member)) void this.compareOutcomes(lane, node, member);
      }
  }

  /** Compares what `member` decided for each offset since its last check with the other members. */
  private async compareOutcomes(lane: DaemonLane, node: NodeId, member: DaemonMember): Promise<void> {
    this.checking.add(member);
    try {
      const through = member.syncedThrough;
      for (let offset = this.checkedThrough.get(member) ?? 0; offset < through; offset++) {
        const outcome = await member.waitFor(offset, 0);
        if (outcome === undefined) continue;
        const key = outcomeKey(outcome);
        const seen = this.outcomes.get(`${lane.label}/${offset}`);
        this.outcomesCompared++;
        if (seen === undefined) {
          this.outcomes.set(`${lane.label}/${offset}`, { key, node });
          if (key === 'refused') this.fencedEvents++;
        } else if (seen.key !== key)
          this.environment.fail(
            'daemon-members-agree',
            `daemon ${lane.label}: inbound offset ${offset} was ${seen.key} on node ${seen.node} but ${key} on node ${node}`,
          );
      }
      this.checkedThrough.set(member, through);
    } finally {
      this.checking.delete(member);
    }
  }

  /**
   * After healing: senders finish, each daemon (each replica member) acknowledges a fresh event,
   * and every member applies through it.
   */
  async liveness(): Promise<void> {
    const { environment } = this;
    const idle = (): boolean => this.senders.every((sender) => sender.idle);
    await environment.runUntil(idle, environment.scheduler.nowUs + DAEMON_SETTLE_BOUND_US);
    if (!idle()) {
      environment.fail('daemon-liveness', 'daemon sends still unfinished long after healing');
      return;
    }
    for (const lane of this.lanes()) {
      const offset = await this.probe(lane);
      if (offset === undefined) {
        environment.fail(
          'daemon-liveness',
          `daemon ${lane.label} acknowledged no event within ${DAEMON_LIVENESS_BOUND_US} us of healing: ${this.describeLanes(lane.plan.name)}`,
        );
        return;
      }
      const converged = (): boolean => this.converged(lane, offset);
      await environment.runUntil(converged, environment.scheduler.nowUs + DAEMON_CONVERGE_BOUND_US);
      if (!converged()) {
        environment.fail(
          'daemon-liveness',
          `daemon ${lane.label}'s members did not apply through inbound offset ${offset}: ${this.describeLanes(lane.plan.name)}`,
        );
        return;
      }
      // The liveness event's answer may be a retry's (a duplicate has no outputs of its own).
      const withOutputs = await this.lastEventWithOutputs(lane);
      if (withOutputs !== undefined && !(await this.outputsReach(lane, withOutputs))) {
        environment.fail(
          'daemon-liveness',
          `daemon ${lane.label}'s output chain did not reach the outputs of inbound offset ${withOutputs}: ${this.describeLanes(lane.plan.name)}`,
        );
        return;
      }
    }
  }

  /** Sends fresh events (to `lane`'s member) until one is acknowledged; its inbound offset, or undefined in time. */
  private async probe(lane: DaemonLane): Promise<number | undefined> {
    const { environment } = this;
    const daemon = lane.plan.name;
    const client = lane.member === undefined ? `${daemon}-probe` : `${daemon}-probe-${lane.member}`;
    const key = lane.member === undefined ? undefined : this.keyRoutedTo(lane.plan, lane.member);
    const sender = new DaemonSender(
      client,
      daemon,
      this.client,
      environment.random.fork(`probe-${lane.label}`),
      key === undefined ? undefined : { keys: [key] },
    );
    const deadlineUs = environment.scheduler.nowUs + DAEMON_LIVENESS_BOUND_US;
    let offset: number | undefined;
    const next = (): void => {
      if (environment.scheduler.nowUs >= deadlineUs) return;
      sender.sendOne((operation) => {
        if (operation.status === 'ok') offset = operation.inboundOffset;
        else environment.scheduler.schedule(CONVERGE_POLL_US, 'daemon liveness probe', next);
      });
    };
    next();
    await environment.runUntil(() => offset !== undefined, deadlineUs);
    return offset;
  }

  /** A key that replica group `plan` routes to `member`. */
  private keyRoutedTo(plan: DaemonPlan, member: number): string {
    const count = this.memberCount(plan);
    for (let attempt = 0; attempt < MAX_PROBE_KEYS; attempt++) {
      const key = `probe-${attempt}`;
      if (replicaForKey(key, count) === member) return key;
    }
    throw new Error(`no key of ${MAX_PROBE_KEYS} routes to member ${member} of ${count}`);
  }

  /** The last inbound offset whose event a member applied with outputs (undefined: none known). */
  private async lastEventWithOutputs(lane: DaemonLane): Promise<number | undefined> {
    const [first] = this.laneMembers(lane);
    if (first === undefined) return undefined;
    const member = first[1];
    for (let offset = member.syncedThrough - 1; offset >= 0; offset--) {
      // No outcome: a chain's epoch marker (not a record), or one no longer remembered.
      const outcome = await member.waitFor(offset, 0);
      if (outcome === undefined) continue;
      if (outcome.type === 'applied' && !outcome.duplicate && outcome.outputs.length > 0) return offset;
    }
    return undefined;
  }

  /** Polls the output chain (through a node's chains) until it holds the outputs of `offset`. */
  private async outputsReach(lane: DaemonLane, offset: number): Promise<boolean> {
    const { environment } = this;
    const deadlineUs = environment.scheduler.nowUs + DAEMON_CONVERGE_BOUND_US;
    let through = -1;
    let polling = false;
    const poll = (): void => {
      if (through >= offset || environment.scheduler.nowUs >= deadlineUs) return;
      const chains = this.anyChains();
      if (!polling && chains !== undefined) {
        polling = true;
        lastOutputInboundOffset(chains, lane.outputs)
          .then(
            (last) => {
              through = last;
            },
            () => {},
          )
          .finally(() => {
            polling = false;
          });
      }
      environment.scheduler.schedule(CONVERGE_POLL_US, 'daemon outputs poll', poll);
    };
    poll();
    await environment.runUntil(() => through >= offset, deadlineUs);
    return through >= offset;
  }

  /**
   * The chains backend of a running process holding a replica of `chain`, its leader's when it
   * runs (a follower may not know yet what was committed last): the end checks run without the
   * scheduler, so they read locally (a read forwarded to another node would never be answered).
   */
  private chainsHolding(chain: string): ChainsBackend | undefined {
    let holder: ChainsBackend | undefined;
    for (const node of this.environment.nodes) {
      const chains = this.environment.chainsOf(node.id);
      const replica = chains?.host.replica(chain);
      if (chains === undefined || replica === undefined) continue;
      if (replica.status().leading) return chains.requests;
      holder ??= chains.requests;
    }
    return holder;
  }

  /** The chains backend of some running process (the liveness phase reads through it). */
  private anyChains(): ChainsBackend | undefined {
    return this.environment.nodes
      .map((node) => this.environment.chainsOf(node.id)?.requests)
      .find((backend) => backend !== undefined);
  }

  /**
   * Every member the deploy placed runs and has applied through `offset`; for a replica member
   * (moved when its node was lost), some running node runs it and has.
   */
  private converged(lane: DaemonLane, offset: number): boolean {
    const daemon = lane.plan.name;
    if (lane.member !== undefined)
      return [...this.laneMembers(lane)].some(([, member]) => member.syncedThrough > offset);
    const placed = this.deploys.get(daemon)?.status?.members ?? [];
    return placed.every(({ index, node }) => {
      const member = this.daemons.processOf(node)?.members.get(daemon);
      return member !== undefined && member.index === index && member.syncedThrough > offset;
    });
  }

  /** Each node's member of `daemon` and replicas of its inbound chains, for a liveness failure. */
  private describeLanes(daemon: string): string {
    const plan = this.plans.find((candidate) => candidate.name === daemon);
    const chains =
      plan === undefined ? [] : lanesOf(plan, this.memberCount(plan)).map((lane) => lane.inbound);
    const parts: string[] = [];
    for (const node of this.environment.nodes) {
      const member = this.daemons.processOf(node.id)?.members.get(daemon);
      const replicas = chains.flatMap((chain) => {
        const replica = this.environment.chainsOf(node.id)?.host.replica(chain)?.status();
        return replica === undefined ? [] : [{ chain, replica }];
      });
      if (member === undefined && replicas.length === 0) continue;
      const memberPart =
        member === undefined
          ? 'no member'
          : `member ${member.index} epoch ${member.epoch}${member.active ? ' active' : ''} synced ${member.syncedThrough}`;
      const replicaPart =
        replicas.length === 0
          ? 'no inbound replica'
          : replicas
              .map(
                ({ chain, replica }) =>
                  `${chains.length > 1 ? chain : 'inbound'} epoch ${replica.epoch}${replica.leading ? ' leading' : ''} end ${replica.endOffset} commit ${replica.commitOffset}`,
              )
              .join(', ');
      parts.push(`node ${node.id}: ${memberPart}, ${replicaPart}`);
    }
    return parts.join('; ') || 'no member runs';
  }

  /**
   * End checks, per lane: every member's journal against the history (exactly once, in each
   * sender's order, nothing failed or unsent; a replica member's: the events routed to it, in
   * each key's order; a fork's: the parent's journal at the fork point, then its own events),
   * the epoch rule as members applied it (an event of an older epoch after a newer one on the
   * inbound chain is applied by no member), and the output stream.
   */
  async endChecks(): Promise<void> {
    for (const lane of this.lanes()) {
      const members = [...this.laneMembers(lane)];
      const journals = new Map<string, string[]>();
      for (const [node, member] of members)
        journals.set(`${member.index}@node-${node}`, await journalOf(member));
      const problems = await this.journalProblems(lane, journals);
      if (problems.length > 0) {
        this.environment.fail('daemon-acknowledged-events', problems.slice(0, 5).join('; '));
        return;
      }
      const epochs = await this.inboundEpochs(lane.inbound);
      // No running node holds the chain (none can after healing): nothing to read it from.
      if (epochs === undefined) continue;
      for (const [node, member] of members) {
        const problem = await fencedEventApplied(lane.label, node, member, epochs);
        if (problem !== undefined) {
          this.environment.fail('daemon-fenced-event-applied', problem);
          return;
        }
      }
      const first = members[0];
      const problem = first === undefined ? undefined : await this.outputProblem(lane, first[1], epochs);
      if (problem !== undefined) {
        this.environment.fail('daemon-outputs', problem);
        return;
      }
    }
  }

  private async journalProblems(
    lane: DaemonLane,
    journals: ReadonlyMap<string, string[]>,
  ): Promise<string[]> {
    const { plan } = lane;
    if (lane.member !== undefined) {
      if (journals.size === 0) return [`${lane.label}: no member's journal to check`];
      this.replicaMembersChecked++;
      return replicaJournalProblems(plan.name, lane.member, this.memberCount(plan), this.history, journals);
    }
    const deploy = this.deploys.get(plan.name);
    if (plan.parent === undefined || !(deploy instanceof ForkDeployer) || deploy.forkPoint === undefined)
      return daemonJournalProblems(plan.name, this.history, journals);
    // A fork's parent has one history: the daemon's inbound chain.
    const parentRecords = await this.inboundEpochs(inboundChainName(plan.parent));
    const prefix =
      parentRecords === undefined
        ? undefined
        : await this.parentPrefix(plan.parent, deploy.forkPoint, parentRecords);
    if (prefix === undefined)
      return [`${plan.name}: no member of ${plan.parent} knows its outcomes below the fork point`];
    this.forkPrefixEvents += prefix.length;
    return forkJournalProblems(plan.name, this.history, journals, prefix);
  }

  /**
   * The parent's journal as it was at `forkPoint`: the entries of the events a parent member
   * applied (not as duplicates) below it, read from a member that remembers every outcome there.
   */
  private async parentPrefix(
    parent: string,
    forkPoint: number,
    records: ReadonlyMap<number, number>,
  ): Promise<string[] | undefined> {
    for (const [, member] of this.runningMembers(parent)) {
      const outcomes = await outcomesOf(member, records, forkPoint);
      if (outcomes === undefined) continue;
      const applied = outcomes.filter(([, outcome]) => outcome.type === 'applied' && !outcome.duplicate);
      return (await journalOf(member)).slice(0, applied.length);
    }
    return undefined;
  }

  /**
   * The output stream (read as clients read it, `readOutputs`) against `member`'s outcomes: each
   * applied event's one output (a journal's entry index) once, in inbound order, and no output
   * of an event that was refused or answered as a duplicate.
   */
  private async outputProblem(
    lane: DaemonLane,
    member: DaemonMember,
    records: ReadonlyMap<number, number>,
  ): Promise<string | undefined> {
    const chains = this.chainsHolding(lane.outputs);
    const outcomes = await outcomesOf(member, records, member.syncedThrough);
    if (chains === undefined || outcomes === undefined) return undefined;
    this.outputStreamsChecked++;
    const expected: string[] = [];
    for (const [offset, outcome] of outcomes)
      if (outcome.type === 'applied' && !outcome.duplicate)
        expected.push(
          ...outcome.outputs.map((output, index) => `${offset}/${index}=${decoder.decode(output)}`),
        );
    const seen: string[] = [];
    const signal = new AbortController().signal;
    for await (const output of readOutputs(chains, lane.outputs, 0, false, signal))
      seen.push(`${output.inboundOffset}/${output.index}=${decoder.decode(output.payload)}`);
    const length = Math.max(expected.length, seen.length);
    for (let position = 0; position < length; position++)
      if (seen[position] !== expected[position])
        return `daemon ${lane.label}: output ${position} is ${seen[position] ?? 'missing'}, member ${member.index} applied ${expected[position] ?? 'nothing more'}`;
    return undefined;
  }

  /** The daemon epoch of every event record on inbound chain `chain`, by offset (undefined: no copy to read). */
  private async inboundEpochs(chain: string): Promise<Map<number, number> | undefined> {
    const chains = this.chainsHolding(chain);
    if (chains === undefined) return undefined;
    const epochs = new Map<number, number>();
    let from = 0;
    for (;;) {
      const { records, nextOffset } = await chains.read(chain, from, READ_RECORDS, READ_BYTES);
      // A fork record (a fork's first) is no event: it has no outcome or output of its own.
      for (const record of records)
        if (!isForkRecord(record.payload))
          epochs.set(record.offset, decodeInboundEventRecord(record.payload).epoch);
      // A read past only epoch markers answers no record but moves on; at the commit offset it stays.
      if (nextOffset <= from) return epochs;
      from = nextOffset;
    }
  }

  result(): DaemonRunReport {
    const count = (status: DaemonSendOperation['status']): number =>
      this.history.filter((operation) => operation.status === status).length;
    return {
      daemons: this.plans.map((plan) => plan.name),
      acknowledgedEvents: count('ok'),
      unknownEvents: count('info'),
      failedEvents: count('fail'),
      highestEpoch: this.highestEpoch,
      activeStrikes: this.activeStrikes,
      outcomesCompared: this.outcomesCompared,
      fencedEvents: this.fencedEvents,
      replicaMembersChecked: this.replicaMembersChecked,
      forkPrefixEvents: this.forkPrefixEvents,
      outputStreamsChecked: this.outputStreamsChecked,
      history: this.history,
    };
  }
}

/**
 * `member`'s outcome of each record of its chain below `below` (`records`: the chain's record
 * offsets; the offsets between are epoch markers), in offset order; undefined when it no longer
 * remembers one of them.
 */
async function outcomesOf(
  member: DaemonMember,
  records: ReadonlyMap<number, number>,
  below: number,
): Promise<Array<[number, ApplyOutcome]> | undefined> {
  const outcomes: Array<[number, ApplyOutcome]> = [];
  for (const offset of [...records.keys()].filter((offset) => offset < below).sort((a, b) => a - b)) {
    const outcome = await member.waitFor(offset, 0);
    if (outcome === undefined) return undefined;
    outcomes.push([offset, outcome]);
  }
  return outcomes;
}

/** `member`'s journal, each payload as text. */
async function journalOf(member: DaemonMember): Promise<string[]> {
  const { state } = await member.state();
  return decodeJournalState(state).map((payload) => decoder.decode(payload));
}

const DAEMON_FRAME = { label: 'deliver daemons frame', duplicable: false } as const;

/**
 * The epoch rule as `member` applied it: walking its outcomes in offset order, an event it did
 * not refuse must not be of an older epoch than one it did not refuse before it.
 */
async function fencedEventApplied(
  daemon: string,
  node: NodeId,
  member: DaemonMember,
  epochs: ReadonlyMap<number, number>,
): Promise<string | undefined> {
  let highest = 0;
  let highestAt = -1;
  for (let offset = 0; offset < member.syncedThrough; offset++) {
    const outcome = await member.waitFor(offset, 0);
    const epoch = epochs.get(offset);
    if (outcome === undefined || epoch === undefined || outcome.type === 'refused') continue;
    if (epoch < highest)
      return `daemon ${daemon}: member ${member.index} on node ${node} applied the event at inbound offset ${offset} of epoch ${epoch} after epoch ${highest} began at offset ${highestAt}`;
    if (epoch > highest) {
      highest = epoch;
      highestAt = offset;
    }
  }
  return undefined;
}
