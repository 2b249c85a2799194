/** `meshos member list|add|remove|promote|update`: cluster membership, through any member. */
import type { Member } from '../../client/index.js';
import {
  CLIENT_TLS_OPTION_USAGE,
  type CommandIo,
  clientTarget,
  ENDPOINTS_OPTION,
  EXIT_OK,
  idToHex,
  parseCommandLine,
  parseMemberId,
  runCommand,
  UsageError,
  withClient,
} from './common.js';

export const MEMBER_USAGE = `usage:
  meshos member list [--json]
  meshos member add PEER_URL [--learner]
  meshos member remove ID
  meshos member promote ID
  meshos member update ID PEER_URL[,PEER_URL...]
options:
  --endpoints a,b,c        client endpoints (default 127.0.0.1:2379)
${CLIENT_TLS_OPTION_USAGE}
member IDs are hexadecimal, as 'member list' shows them`;

/** One line per member: id, started or not, name, peer URLs, client URLs, learner. */
export function memberLine(member: Member): string {
  return [
    idToHex(member.id),
    member.name === '' ? 'unstarted' : 'started',
    member.name,
    member.peerUrls.join(','),
    member.clientUrls.join(','),
    String(member.isLearner),
  ].join(', ');
}

function memberJson(member: Member): Record<string, unknown> {
  return {
    id: idToHex(member.id),
    name: member.name,
    peerUrls: member.peerUrls,
    clientUrls: member.clientUrls,
    isLearner: member.isLearner,
  };
}

/** `meshos member ...`; argv starts after `member`. */
export async function memberCommand(argv: string[], io: CommandIo): Promise<number> {
  return runCommand(io, MEMBER_USAGE, async () => {
    const { values, positionals } = parseCommandLine(argv, {
      ...ENDPOINTS_OPTION,
      json: { type: 'boolean' },
      learner: { type: 'boolean' },
    });
    const [subcommand, ...args] = positionals;
    const expect = (count: number, names: string): void => {
      if (args.length !== count) throw new UsageError(`member ${subcommand} takes ${names}`);
    };
    const target = clientTarget(values);
    switch (subcommand) {
      case 'list': {
        expect(0, 'no arguments');
        return withClient(target, async (client) => {
          const members = await client.members();
          if (values.json === true) io.out(JSON.stringify({ members: members.map(memberJson) }));
          else for (const member of members) io.out(memberLine(member));
          return EXIT_OK;
        });
      }
      case 'add': {
        expect(1, 'PEER_URL');
        const peerUrl = args[0] ?? '';
        return withClient(target, async (client) => {
          const added = await client.memberAdd(peerUrl, { learner: values.learner === true });
          io.out(`Member ${idToHex(added.member.id)} added${added.member.isLearner ? ' as a learner' : ''}`);
          for (const member of added.members) io.out(memberLine(member));
          return EXIT_OK;
        });
      }
      case 'remove':
      case 'promote': {
        expect(1, 'ID');
        const id = parseMemberId(args[0] ?? '');
        return withClient(target, async (client) => {
          if (subcommand === 'remove') await client.memberRemove(id);
          else await client.memberPromote(id);
          io.out(`Member ${idToHex(id)} ${subcommand === 'remove' ? 'removed' : 'promoted'}`);
          return EXIT_OK;
        });
      }
      case 'update': {
        expect(2, 'ID PEER_URL[,PEER_URL...]');
        const id = parseMemberId(args[0] ?? '');
        const peerUrls = (args[1] ?? '').split(',').filter((url) => url.length > 0);
        return withClient(target, async (client) => {
          const members = await client.memberUpdate(id, peerUrls);
          io.out(`Member ${idToHex(id)} updated`);
          for (const member of members) io.out(memberLine(member));
          return EXIT_OK;
        });
      }
      default:
        throw new UsageError(
          subcommand === undefined
            ? 'member needs a subcommand'
            : `unknown member subcommand '${subcommand}'`,
        );
    }
  });
}
