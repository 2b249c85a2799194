/**
 * The arguments of `meshos user` and `meshos role` that need more than parseArgs: a new user's
 * password (from a file, standard input or a flag: never only from the command line, where it
 * would land in the shell's history) and a permission's type and key range (etcdctl's
 * `TYPE KEY [RANGE_END] [--prefix] [--from-key]`).
 */
import { readFileSync } from 'node:fs';
import { PERMISSION_TYPES, type PermissionRangeOptions, type PermissionType } from '../../client/index.js';
import { MeshError } from '../../lib/index.js';
import { passwordLine } from './client-user-flags.js';
import {
  type CommandIo,
  ENDPOINTS_OPTION,
  JSON_OPTION,
  parseCommandLine,
  readProcessInput,
  UsageError,
} from './common.js';

/** A password source or a permission that the command line gives wrongly. */
export class AuthArgumentError extends MeshError {
  constructor(message: string) {
    super('AUTH_ARGUMENTS', message);
  }
}

type Options = Parameters<typeof parseCommandLine>[1];
type ParsedValues<T extends Options> = ReturnType<
  typeof parseCommandLine<typeof ENDPOINTS_OPTION & typeof JSON_OPTION & T>
>['values'];

/**
 * An auth, user or role subcommand's command line: the client flags, `--json` and `options`, and
 * exactly the positionals `names` (then at most the `optional` ones).
 */
export function argumentsOf<T extends Options>(
  argv: string[],
  options: T,
  names: readonly string[],
  optional: readonly string[] = [],
): { values: ParsedValues<T>; args: string[] } {
  const { values, positionals } = parseCommandLine(argv, { ...ENDPOINTS_OPTION, ...JSON_OPTION, ...options });
  if (positionals.length < names.length || positionals.length > names.length + optional.length) {
    const expected = [...names, ...optional.map((name) => `[${name}]`)].join(' ');
    throw new UsageError(
      expected === ''
        ? `takes no arguments, got ${positionals.length}`
        : `expected ${expected}, got ${positionals.length} argument(s)`,
    );
  }
  return { values, args: positionals };
}

/** Where `user add` and `user passwd` take the new password from. */
export const NEW_PASSWORD_OPTION = {
  'new-user-password-file': { type: 'string' },
  'new-user-password-stdin': { type: 'boolean' },
  'new-user-password': { type: 'string' },
} as const;

export interface NewPasswordValues {
  readonly 'new-user-password-file'?: string | undefined;
  readonly 'new-user-password-stdin'?: boolean | undefined;
  readonly 'new-user-password'?: string | undefined;
  readonly 'no-password'?: boolean | undefined;
}

/** Where the new password comes from, once the flags are checked. */
export type PasswordSource =
  | { readonly kind: 'text'; readonly password: string }
  | { readonly kind: 'file'; readonly file: string }
  | { readonly kind: 'stdin' }
  | { readonly kind: 'none' };

const PASSWORD_SOURCES_TEXT =
  '--new-user-password-file FILE, --new-user-password-stdin or --new-user-password PASSWORD';

/**
 * The one password source the flags name: `inline` is the `NAME:PASSWORD` form of `user add`
 * (etcdctl's), `--no-password` is only for `user add`. Never prompts: scripts run these commands.
 */
export function passwordSourceFrom(
  values: NewPasswordValues,
  inline: string | undefined,
  noPasswordAllowed: boolean,
): PasswordSource {
  const sources: PasswordSource[] = [];
  if (inline !== undefined) sources.push({ kind: 'text', password: inline });
  if (values['new-user-password'] !== undefined)
    sources.push({ kind: 'text', password: values['new-user-password'] });
  if (values['new-user-password-file'] !== undefined)
    sources.push({ kind: 'file', file: values['new-user-password-file'] });
  if (values['new-user-password-stdin'] === true) sources.push({ kind: 'stdin' });
  if (values['no-password'] === true) {
    if (!noPasswordAllowed) throw new AuthArgumentError('--no-password is only for user add');
    sources.push({ kind: 'none' });
  }
  const [source] = sources;
  if (source === undefined)
    throw new AuthArgumentError(
      `a password is needed: ${PASSWORD_SOURCES_TEXT}${noPasswordAllowed ? ' (or NAME:PASSWORD, or --no-password)' : ''}`,
    );
  if (sources.length > 1) throw new AuthArgumentError('give the new password once');
  return source;
}

/** A password read from a file or stdin: one line, its line break dropped. */
export function passwordFromText(text: string, from: string): string {
  const password = passwordLine(text);
  if (password === undefined) throw new AuthArgumentError(`the password in ${from} must be one line`);
  return password;
}

/** The password the source gives (read now from the file or stdin); `none` is user add's alone. */
export async function readPassword(source: PasswordSource, io: CommandIo): Promise<string> {
  let password: string;
  switch (source.kind) {
    case 'none':
      throw new AuthArgumentError('--no-password is only for user add');
    case 'text':
      password = source.password;
      break;
    case 'stdin':
      password = passwordFromText(await (io.readInput ?? readProcessInput)(), 'standard input');
      break;
    case 'file':
      password = passwordFromText(readPasswordFile(source.file), source.file);
      break;
  }
  if (password === '') throw new AuthArgumentError('the password is empty');
  return password;
}

function readPasswordFile(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (error) {
    throw new AuthArgumentError(
      `--new-user-password-file: cannot read ${file} (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`,
    );
  }
}

/** `read`, `write` or `readwrite`, in any case (as etcdctl takes them). */
export function permissionTypeFrom(text: string): PermissionType {
  const type = PERMISSION_TYPES.find((candidate) => candidate === text.toLowerCase());
  if (type === undefined)
    throw new AuthArgumentError(`permission type must be read, write or readwrite, got '${text}'`);
  return type;
}

/** The keys `KEY [RANGE_END] [--prefix] [--from-key]` name, as the client takes them. */
export function permissionRangeFrom(
  key: string,
  rangeEnd: string | undefined,
  flags: { readonly prefix?: boolean | undefined; readonly 'from-key'?: boolean | undefined },
): PermissionRangeOptions {
  const prefix = flags.prefix === true;
  const fromKey = flags['from-key'] === true;
  if (prefix && fromKey) throw new AuthArgumentError('--prefix and --from-key do not go together');
  if (rangeEnd !== undefined && (prefix || fromKey))
    throw new AuthArgumentError(`RANGE_END does not go with ${prefix ? '--prefix' : '--from-key'}`);
  if (prefix) return { prefix: true };
  if (fromKey) return { fromKey: true };
  if (key === '')
    throw new AuthArgumentError("KEY is empty: give a key, or '' with --prefix or --from-key for every key");
  return rangeEnd === undefined ? {} : { rangeEnd };
}
