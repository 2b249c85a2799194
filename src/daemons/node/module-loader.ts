/**
 * Loads the kinds of `--daemon-module` files: each file is imported (`import()`), and every
 * named export with a kind's shape (a `name` string and a `create` function) becomes a kind.
 * The default export and other exports are ignored. Any problem is a
 * `DaemonModuleLoadError` (`DAEMON_MODULE_LOAD_FAILED`) naming the file and the cause, and the
 * node refuses to start: a node that silently lacked a kind would fail every deploy of it later.
 */
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { InputProblems } from '../../lib/index.js';
import { DaemonModuleLoadError } from '../errors.js';
import { BUILT_IN_KINDS, createKindCatalog, kindProblems, looksLikeKind } from '../kinds/index.js';
import { MAX_DAEMON_MODULES, MAX_KINDS_PER_MODULE } from '../limits.js';
import type { DaemonKind, DaemonKindCatalog } from '../types.js';

/** One module's kinds, in export order; a kind exported under two names counts once. */
export async function loadDaemonModule(modulePath: string): Promise<DaemonKind[]> {
  const absolutePath = path.resolve(modulePath);
  let exports: Record<string, unknown>;
  try {
    exports = (await import(pathToFileURL(absolutePath).href)) as Record<string, unknown>;
  } catch (error) {
    throw new DaemonModuleLoadError(absolutePath, `failed to load: ${describeCause(error)}`, error);
  }
  const kinds: DaemonKind[] = [];
  const problems = new InputProblems();
  for (const [exportName, value] of Object.entries(exports)) {
    if (exportName === 'default' || !looksLikeKind(value) || kinds.includes(value)) continue;
    problems.nested(`export ${exportName}`, kindProblems(value));
    kinds.push(value);
  }
  if (problems.list.length > 0) {
    throw new DaemonModuleLoadError(absolutePath, `invalid kind: ${problems.list.join('; ')}`);
  }
  if (kinds.length === 0) {
    throw new DaemonModuleLoadError(
      absolutePath,
      'exports no daemon kind (a named export with a `name` string and a `create` function)',
    );
  }
  if (kinds.length > MAX_KINDS_PER_MODULE) {
    throw new DaemonModuleLoadError(
      absolutePath,
      `exports ${kinds.length} kinds, more than the limit of ${MAX_KINDS_PER_MODULE}`,
    );
  }
  return kinds;
}

/**
 * The catalog a node runs with: the built-in kinds plus every kind of `modulePaths`, in order.
 * A kind whose name is taken (by a built-in or an earlier module) fails the module that brings it.
 */
export async function loadKindCatalog(modulePaths: readonly string[]): Promise<DaemonKindCatalog> {
  if (modulePaths.length > MAX_DAEMON_MODULES) {
    throw new DaemonModuleLoadError(
      modulePaths.join(', '),
      `${modulePaths.length} modules given, more than the limit of ${MAX_DAEMON_MODULES}`,
    );
  }
  const origins = new Map<string, string>(BUILT_IN_KINDS.map((kind) => [kind.name, 'a built-in kind']));
  const kinds: DaemonKind[] = [...BUILT_IN_KINDS];
  for (const modulePath of modulePaths) {
    for (const kind of await loadDaemonModule(modulePath)) {
      const origin = origins.get(kind.name);
      if (origin !== undefined) {
        throw new DaemonModuleLoadError(
          path.resolve(modulePath),
          `kind '${kind.name}' clashes with ${origin} of that name`,
        );
      }
      origins.set(kind.name, `the kind of ${path.resolve(modulePath)}`);
      kinds.push(kind);
    }
  }
  return createKindCatalog(kinds);
}

function describeCause(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
