import type { ChainsBackend } from '../api/index.js';
import { inboundChainName, outputChainName } from '../daemons/chain-names.js';
import { decodeJournalState } from '../daemons/kinds/index.js';
import type { ApplyOutcome } from '../daemons/member-core.js';
import { decodeInboundEventRecord } from '../daemons/record-codec.js';
import type { NodeId, Random } from '../lib/index.js';
import type { DaemonMember } from '../mesh/daemon-member.js';
import type { DaemonsNode } from '../mesh/daemon-node.js';
import { lastOutputInboundOffset } from '../mesh/daemon-output-writer.js';
import { readOutputs } from '../mesh/daemon-outputs.js';
import { type DaemonSendOperation, daemonJournalProblems } from './daemon-history.js';
import type { RunPartEnvironment } from './sim-chain-run.js';
import type { ChainProcess } from './sim-chains.js';
import { SimChannelLinks } from './sim-channel-links.js';
import { type DaemonClientEnvironment, DaemonDeployer, DaemonSender } from './sim-daemon-workload.js';
import { SimDaemons, type UnsafeMemberReads } from './sim-daemons.js';
import { SimHealthView } from './sim-health-view.js';

/** The daemons of a run: `journal` standby groups (an active and hot standbys). */
const DAEMON_PLANS = [
  { name: 'journal-a', members: 3 },
  { name: 'journal-b', members: 2 },
] as const;
const SENDERS_PER_DAEMON = 3;
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
  private readonly health: SimHealthView;
  private readonly client: DaemonClientEnvironment;
  private readonly deployers: DaemonDeployer[] = [];
  private readonly senders: DaemonSender[] = [];
  /** `daemon/epoch` -> the node seen active in it, or acknowledged appending in it. */
  private readonly activeByEpoch = new Map<string, NodeId>();
  /** `daemon/offset` -> the outcome the first member to report it had, and on which node. */
  private readonly outcomes = new Map<string, { readonly key: string; readonly node: NodeId }>();
  private readonly checkedThrough = new WeakMap<DaemonMember, number>();
  private readonly checking = new WeakSet<DaemonMember>();
  private outcomesCompared = 0;
  private fencedEvents = 0;
  private highestEpoch = 1;
  private activeStrikes = 0;
  private chaosActive = false;

  constructor(private readonly environment: DaemonRunEnvironment) {
    const { scheduler, network } = environment;
    this.health = new SimHealthView(scheduler, network, environment.nodes);
    this.daemons = new SimDaemons({
      links: new SimChannelLinks(scheduler, network, 'daemons', () => DAEMON_FRAME),
      health: this.health,
      rttMs: (from, to) => environment.rttMs(from, to),
      observer: {
        onInboundAcknowledged: (chain, node, epochs) => {
          for (const epoch of epochs) this.onActive(chain, epoch, node, 'had events acknowledged');
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

  /** Draws the deploys and senders once the machines exist. */
  plan(): void {
    const { random } = this.environment;
    const count = this.environment.nodes.length;
    for (const plan of DAEMON_PLANS) {
      this.deployers.push(
        new DaemonDeployer(
          this.client,
          { name: plan.name, kind: 'journal', group: 'standby', members: Math.min(plan.members, count) },
          random.fork(`deploy-${plan.name}`),
        ),
      );
      for (let sender = 0; sender < SENDERS_PER_DAEMON; sender++) {
        const client = `${plan.name}-s${sender}`;
        this.senders.push(new DaemonSender(client, plan.name, this.client, random.fork(client)));
      }
    }
  }

  /** Deploys the daemons through the nodes' requests (before the faults begin). */
  deploy(): void {
    this.health.start();
    for (const deployer of this.deployers) deployer.start();
  }

  get deployed(): boolean {
    return this.deployers.every((deployer) => deployer.done);
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

  /** Pauses, cuts off or crashes the node of a random daemon's active. */
  private strike(random: Random): void {
    const plan = DAEMON_PLANS[random.nextInt(DAEMON_PLANS.length)]!;
    const active = this.activeNode(plan.name);
    if (active === undefined) {
      this.environment.trace.record(
        `daemon chaos: no active of ${plan.name} runs: ${this.describeMembers(plan.name)}`,
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

  /** The members of `daemon` on running, unpaused processes. */
  private *runningMembers(daemon: string): Generator<[NodeId, DaemonMember]> {
    for (const [node, daemons] of this.runningDaemons()) {
      const member = daemons.members.get(daemon);
      if (member !== undefined) yield [node, member];
    }
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

  /** One active per daemon epoch: `node` acted as `daemon`'s (or its inbound chain's) active in `epoch`. */
  private onActive(daemonOrChain: string, epoch: number, node: NodeId, what: string): void {
    const daemon = DAEMON_PLANS.find(
      (plan) => plan.name === daemonOrChain || inboundChainName(plan.name) === daemonOrChain,
    )?.name;
    if (daemon === undefined) return;
    this.highestEpoch = Math.max(this.highestEpoch, epoch);
    const key = `${daemon}/${epoch}`;
    const earlier = this.activeByEpoch.get(key);
    if (earlier === undefined) this.activeByEpoch.set(key, node);
    else if (earlier !== node)
      this.environment.fail(
        'daemon-one-active-per-epoch',
        `daemon ${daemon}: nodes ${earlier} and ${node} both acted as its active in epoch ${epoch} (node ${node} ${what})`,
      );
  }

  /** The checks while the run goes: one active per epoch, members agree on every outcome. */
  check(): void {
    for (const plan of DAEMON_PLANS)
      for (const [node, member] of this.runningMembers(plan.name)) {
        if (member.active) this.onActive(plan.name, member.epoch, node, 'runs as active');
        if (!this.checking.has(member)) void this.compareOutcomes(plan.name, node, member);
      }
  }

  /** Compares what `member` decided for each offset since its last check with the other members. */
  private async compareOutcomes(daemon: string, node: NodeId, member: DaemonMember): Promise<void> {
    this.checking.add(member);
    try {
      const through = member.syncedThrough;
      for (let offset = this.checkedThrough.get(member) ?? 0; offset < through; offset++) {
        const outcome = await member.waitFor(offset, 0);
        if (outcome === undefined) continue;
        const key = outcomeKey(outcome);
        const seen = this.outcomes.get(`${daemon}/${offset}`);
        this.outcomesCompared++;
        if (seen === undefined) {
          this.outcomes.set(`${daemon}/${offset}`, { key, node });
          if (key === 'refused') this.fencedEvents++;
        } else if (seen.key !== key)
          this.environment.fail(
            'daemon-members-agree',
            `daemon ${daemon}: inbound offset ${offset} was ${seen.key} on node ${seen.node} but ${key} on node ${node}`,
          );
      }
      this.checkedThrough.set(member, through);
    } finally {
      this.checking.delete(member);
    }
  }

  /**
   * After healing: senders finish, each daemon acknowledges a fresh event, and every member
   * applies through it.
   */
  async liveness(): Promise<void> {
    const { environment } = this;
    const idle = (): boolean => this.senders.every((sender) => sender.idle);
    await environment.runUntil(idle, environment.scheduler.nowUs + DAEMON_SETTLE_BOUND_US);
    if (!idle()) {
      environment.fail('daemon-liveness', 'daemon sends still unfinished long after healing');
      return;
    }
    for (const plan of DAEMON_PLANS) {
      const offset = await this.probe(plan.name);
      if (offset === undefined) {
        environment.fail(
          'daemon-liveness',
          `daemon ${plan.name} acknowledged no event within ${DAEMON_LIVENESS_BOUND_US} us of healing: ${this.describeMembers(plan.name)}`,
        );
        return;
      }
      const converged = (): boolean => this.converged(plan.name, offset);
      await environment.runUntil(converged, environment.scheduler.nowUs + DAEMON_CONVERGE_BOUND_US);
      if (!converged()) {
        environment.fail(
          'daemon-liveness',
          `daemon ${plan.name}'s members did not apply through inbound offset ${offset}: ${this.describeMembers(plan.name)}`,
        );
        return;
      }
      // The liveness event's answer may be a retry's (a duplicate has no outputs of its own).
      const withOutputs = await this.lastEventWithOutputs(plan.name);
      if (withOutputs !== undefined && !(await this.outputsReach(plan.name, withOutputs))) {
        environment.fail(
          'daemon-liveness',
          `daemon ${plan.name}'s output chain did not reach the outputs of inbound offset ${withOutputs}: ${this.describeMembers(plan.name)}`,
        );
        return;
      }
    }
  }

  /** Sends fresh events until one is acknowledged; its inbound offset, or undefined in time. */
  private async probe(daemon: string): Promise<number | undefined> {
    const { environment } = this;
    const sender = new DaemonSender(
      `${daemon}-probe`,
      daemon,
      this.client,
      environment.random.fork(`probe-${daemon}`),
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

  /** The last inbound offset whose event a member applied with outputs (undefined: none known). */
  private async lastEventWithOutputs(daemon: string): Promise<number | undefined> {
    const [first] = this.runningMembers(daemon);
    if (first === undefined) return undefined;
    const member = first[1];
    for (let offset = member.syncedThrough - 1; offset >= 0; offset--) {
      const outcome = await member.waitFor(offset, 0);
      if (outcome === undefined) return undefined;
      if (outcome.type === 'applied' && !outcome.duplicate && outcome.outputs.length > 0) return offset;
    }
    return undefined;
  }

  /** Polls the output chain (through a node's chains) until it holds the outputs of `offset`. */
  private async outputsReach(daemon: string, offset: number): Promise<boolean> {
    const { environment } = this;
    const deadlineUs = environment.scheduler.nowUs + DAEMON_CONVERGE_BOUND_US;
    let through = -1;
    let polling = false;
    const poll = (): void => {
      if (through >= offset || environment.scheduler.nowUs >= deadlineUs) return;
      const chains = this.anyChains();
      if (!polling && chains !== undefined) {
        polling = true;
        lastOutputInboundOffset(chains, outputChainName(daemon))
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

  /** The chains backend of some running process (the end checks read through it). */
  private anyChains(): ChainsBackend | undefined {
    return this.environment.nodes
      .map((node) => this.environment.chainsOf(node.id)?.requests)
      .find((backend) => backend !== undefined);
  }

  /** Every member the deploy placed runs, and has applied through `offset`. */
  private converged(daemon: string, offset: number): boolean {
    const placed = this.deployers.find((deployer) => deployer.status?.name === daemon)?.status?.members ?? [];
    return placed.every(({ index, node }) => {
      const member = this.daemons.processOf(node)?.members.get(daemon);
      return member !== undefined && member.index === index && member.syncedThrough > offset;
    });
  }

  /** Each node's member of `daemon` and replica of its inbound chain, for a liveness failure. */
  private describeMembers(daemon: string): string {
    const parts: string[] = [];
    for (const node of this.environment.nodes) {
      const member = this.daemons.processOf(node.id)?.members.get(daemon);
      const replica = this.environment.chainsOf(node.id)?.host.replica(inboundChainName(daemon))?.status();
      if (member === undefined && replica === undefined) continue;
      const memberPart =
        member === undefined
          ? 'no member'
          : `member ${member.index} epoch ${member.epoch}${member.active ? ' active' : ''} synced ${member.syncedThrough}`;
      const replicaPart =
        replica === undefined
          ? 'no inbound replica'
          : `inbound epoch ${replica.epoch}${replica.leading ? ' leading' : ''} end ${replica.endOffset} commit ${replica.commitOffset}`;
      parts.push(`node ${node.id}: ${memberPart}, ${replicaPart}`);
    }
    return parts.join('; ') || 'no member runs';
  }

  /**
   * End checks, per daemon: every member's journal against the history (exactly once, in each
   * sender's order, nothing failed or unsent), and the epoch rule as members applied it: an
   * event of an older epoch after a newer one on the inbound chain is applied by no member.
   */
  async endChecks(): Promise<void> {
    for (const plan of DAEMON_PLANS) {
      const journals = new Map<string, string[]>();
      const members: Array<[NodeId, DaemonMember]> = [];
      for (const [node, member] of this.runningMembers(plan.name)) {
        members.push([node, member]);
        const { state } = await member.state();
        journals.set(
          `${member.index}@node-${node}`,
          decodeJournalState(state).map((payload) => decoder.decode(payload)),
        );
      }
      const problems = daemonJournalProblems(plan.name, this.history, journals);
      if (problems.length > 0) {
        this.environment.fail('daemon-acknowledged-events', problems.slice(0, 5).join('; '));
        return;
      }
      const epochs = await this.inboundEpochs(plan.name);
      for (const [node, member] of members) {
        const problem = await fencedEventApplied(plan.name, node, member, epochs);
        if (problem !== undefined) {
          this.environment.fail('daemon-fenced-event-applied', problem);
          return;
        }
      }
      const first = members[0];
      const problem = first === undefined ? undefined : await this.outputProblem(plan.name, first[1]);
      if (problem !== undefined) {
        this.environment.fail('daemon-outputs', problem);
        return;
      }
    }
  }

  /**
   * The output stream (read as clients read it, `readOutputs`) against `member`'s outcomes: each
   * applied event's one output (a journal's entry index) once, in inbound order, and no output
   * of an event that was refused or answered as a duplicate.
   */
  private async outputProblem(daemon: string, member: DaemonMember): Promise<string | undefined> {
    const chains = this.anyChains();
    if (chains === undefined) return undefined;
    const expected: string[] = [];
    for (let offset = 0; offset < member.syncedThrough; offset++) {
      const outcome = await member.waitFor(offset, 0);
      if (outcome === undefined) return undefined;
      if (outcome.type === 'applied' && !outcome.duplicate)
        expected.push(
          ...outcome.outputs.map((output, index) => `${offset}/${index}=${decoder.decode(output)}`),
        );
    }
    const seen: string[] = [];
    const signal = new AbortController().signal;
    for await (const output of readOutputs(chains, outputChainName(daemon), 0, false, signal))
      seen.push(`${output.inboundOffset}/${output.index}=${decoder.decode(output.payload)}`);
    const length = Math.max(expected.length, seen.length);
    for (let position = 0; position < length; position++)
      if (seen[position] !== expected[position])
        return `daemon ${daemon}: output ${position} is ${seen[position] ?? 'missing'}, member ${member.index} applied ${expected[position] ?? 'nothing more'}`;
    return undefined;
  }

  /** The daemon epoch of every record on `daemon`'s inbound chain, by offset. */
  private async inboundEpochs(daemon: string): Promise<Map<number, number>> {
    const epochs = new Map<number, number>();
    const chains = this.anyChains();
    if (chains === undefined) return epochs;
    let from = 0;
    for (;;) {
      const { records, nextOffset } = await chains.read(
        inboundChainName(daemon),
        from,
        READ_RECORDS,
        READ_BYTES,
      );
      for (const record of records) epochs.set(record.offset, decodeInboundEventRecord(record.payload).epoch);
      // A read past only epoch markers answers no record but moves on; at the commit offset it stays.
      if (nextOffset <= from) return epochs;
      from = nextOffset;
    }
  }

  result(): DaemonRunReport {
    const count = (status: DaemonSendOperation['status']): number =>
      this.history.filter((operation) => operation.status === status).length;
    return {
      daemons: DAEMON_PLANS.map((plan) => plan.name),
      acknowledgedEvents: count('ok'),
      unknownEvents: count('info'),
      failedEvents: count('fail'),
      highestEpoch: this.highestEpoch,
      activeStrikes: this.activeStrikes,
      outcomesCompared: this.outcomesCompared,
      fencedEvents: this.fencedEvents,
      history: this.history,
    };
  }
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
