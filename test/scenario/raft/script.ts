import { readFileSync, writeFileSync } from 'node:fs';
import type { Message } from '../../../src/raft/index.js';
import { bytes, Network, type NetworkOptions } from './network.js';

/**
 * Interaction scripts: plain-text files of `> command` lines, each followed by the output it
 * produces. Running a script replays the commands and compares the output; with
 * RAFT_SCRIPT_REWRITE=1 the file is rewritten with the actual output instead.
 *
 * Commands: `cluster voters=1,2,3 [prevote] [checkquorum]`, `campaign N`, `propose N text`,
 * `tick N [count]`, `isolate N`, `heal`, `deliver` (one round of messages, printed),
 * `stabilize` (all rounds, printed), `status`.
 */
export function runScript(path: string): { expected: string; actual: string } {
  const expected = readFileSync(path, 'utf8');
  const output: string[] = [];
  let network: Network | undefined;
  const need = (): Network => {
    if (network === undefined) throw new Error('script must start with `cluster`');
    return network;
  };
  for (const line of expected.trimEnd().split('\n')) {
    if (!line.startsWith('> ') && !line.startsWith('#') && line.trim() !== '') continue;
    output.push(line);
    if (!line.startsWith('> ')) continue;
    const [command, ...args] = line.slice(2).trim().split(/\s+/);
    const id = Number(args[0]);
    switch (command) {
      case 'cluster': {
        const voters = (args.find((arg) => arg.startsWith('voters='))?.slice(7) ?? '').split(',').map(Number);
        const options: NetworkOptions = {
          voters,
          preVote: args.includes('prevote'),
          checkQuorum: args.includes('checkquorum'),
        };
        network = new Network(options);
        break;
      }
      case 'campaign':
        need().raft(id).campaign();
        break;
      case 'propose':
        output.push(
          `  index ${need()
            .raft(id)
            .propose(bytes(args[1] ?? ''))}`,
        );
        break;
      case 'tick':
        need().tick(id, Number(args[1] ?? 1));
        break;
      case 'isolate':
        need().isolate(id);
        break;
      case 'heal':
        need().heal();
        break;
      case 'deliver':
        deliverRound(need(), output);
        break;
      case 'stabilize':
        for (let round = 0; round < 100 && deliverRound(need(), output); round++) {
          // Until no messages are left.
        }
        break;
      case 'status':
        for (const [node, simulated] of need().nodes) {
          const status = simulated.raft.status();
          output.push(
            `  ${node}: ${status.role} term=${status.term} leader=${status.leaderId} commit=${status.commit} last=${status.lastIndex} applied=[${simulated.applied.join(',')}]`,
          );
        }
        break;
      default:
        throw new Error(`unknown script command: ${line}`);
    }
  }
  const actual = `${output.join('\n')}\n`;
  if (process.env.RAFT_SCRIPT_REWRITE === '1') {
    writeFileSync(path, actual);
    return { expected: actual, actual };
  }
  return { expected, actual };
}

/** Processes every Ready, then delivers (and prints) the messages queued; false when none. */
function deliverRound(network: Network, output: string[]): boolean {
  network.collect();
  const batch = network.queue;
  network.queue = [];
  for (const message of batch) {
    const dropped = network.isCut(message.from, message.to);
    output.push(`  ${describe(message)}${dropped ? '  (dropped)' : ''}`);
    network.deliver(message);
  }
  return batch.length > 0;
}

function describe(message: Message): string {
  const head = `${message.from}->${message.to} ${message.type} term=${message.term}`;
  switch (message.type) {
    case 'vote':
    case 'preVote':
      return `${head} last=${message.lastLogIndex}/${message.lastLogTerm}`;
    case 'voteResponse':
    case 'preVoteResponse':
      return `${head} ${message.granted ? 'granted' : 'rejected'}`;
    case 'append': {
      const entries = message.entries.map(
        (entry) => `${entry.index}/${entry.term}${entry.kind === 'normal' ? '' : `:${entry.kind}`}`,
      );
      return `${head} prev=${message.prevIndex}/${message.prevTerm} commit=${message.commit} entries=[${entries.join(' ')}]${message.answerOnlyIfRefused === true ? ' answer-only-if-refused' : ''}`;
    }
    case 'appendResponse':
      return message.success
        ? `${head} ok index=${message.index}`
        : `${head} reject index=${message.index} hint=${message.conflictIndex}/${message.conflictTerm}`;
    case 'heartbeat':
      return `${head} commit=${message.commit}`;
    default:
      return head;
  }
}
