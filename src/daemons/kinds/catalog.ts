import { DuplicateKindError, UnknownKindError } from '../../compute/index.js';
import { describeValue, InputProblems, isMeshError, isRecord, ValidationError } from '../../lib/index.js';
import { KIND_NAME_PATTERN, MAX_KIND_NAME_CHARACTERS } from '../limits.js';
import type { DaemonKind, DaemonKindCatalog } from '../types.js';
import { counterKind } from './counter.js';
import { journalKind } from './journal.js';

/** The kinds every node can run, whatever modules it was started with. */
export const BUILT_IN_KINDS: readonly DaemonKind[] = Object.freeze([counterKind, journalKind]);

/** Whether a value (a module export, say) has a kind's shape: a `name` string and a `create` function. */
export function looksLikeKind(value: unknown): value is DaemonKind {
  return isRecord(value) && typeof value.name === 'string' && typeof value.create === 'function';
}

/** Every problem with a value meant as a kind; empty when it is one. */
export function kindProblems(value: unknown): string[] {
  const problems = new InputProblems();
  if (!problems.record('kind', value)) return problems.list;
  const name = value.name;
  if (typeof name !== 'string' || name.length > MAX_KIND_NAME_CHARACTERS || !KIND_NAME_PATTERN.test(name)) {
    problems.add(
      `kind.name must be 1 to ${MAX_KIND_NAME_CHARACTERS} letters, digits, '.', '_' or '-' (starting with a letter or digit), got ${describeValue(name)}`,
    );
  }
  problems.func('kind.create', value.create);
  if (value.validateConfig !== undefined) problems.func('kind.validateConfig', value.validateConfig);
  return problems.list;
}

/**
 * Runs the kind's `validateConfig` (when it has one). A kind from a module may throw any
 * error; one that is not a `MeshError` becomes a `ValidationError` naming the kind and its message.
 */
export function validateKindConfig(kind: DaemonKind, config: unknown): void {
  try {
    kind.validateConfig?.(config);
  } catch (error) {
    if (isMeshError(error)) throw error;
    const message = error instanceof Error ? error.message : describeValue(error);
    throw new ValidationError(`config of daemon kind '${kind.name}'`, [message]);
  }
}

class KindCatalog implements DaemonKindCatalog {
  private readonly kinds = new Map<string, DaemonKind>();

  constructor(kinds: Iterable<DaemonKind>) {
    for (const kind of kinds) {
      const problems = new InputProblems();
      problems.addAll(kindProblems(kind));
      problems.throwIfAny('daemon kind');
      if (this.kinds.has(kind.name)) throw new DuplicateKindError(kind.name);
      this.kinds.set(kind.name, kind);
    }
  }

  get(name: string): DaemonKind {
    const kind = this.kinds.get(name);
    if (kind === undefined) throw new UnknownKindError(name);
    return kind;
  }

  has(name: string): boolean {
    return this.kinds.has(name);
  }

  names(): readonly string[] {
    return [...this.kinds.keys()].sort();
  }
}

/**
 * A catalog of `kinds`, checked: each must have a valid name and a `create` function
 * (`ValidationError` otherwise), and no two may share a name (`DuplicateKindError`,
 * `DAEMON_KIND_DUPLICATE`). A node builds it from `BUILT_IN_KINDS` and its modules' kinds.
 */
export function createKindCatalog(kinds: Iterable<DaemonKind>): DaemonKindCatalog {
  return new KindCatalog(kinds);
}
