/**
 * Dependency graph helpers for `compile()`. Nodes are child names in declaration order;
 * `dependencies.get(a)` lists what `a` depends on (only known names).
 */

/**
 * Kahn's algorithm with the ready set kept in declaration order, so among children whose
 * dependencies have all started the earliest declared goes first. Undefined when there is a cycle.
 */
export function topologicalOrder(
  declared: readonly string[],
  dependencies: ReadonlyMap<string, readonly string[]>,
): string[] | undefined {
  const position = new Map(declared.map((name, index) => [name, index]));
  const waitingOn = new Map<string, number>();
  const dependents = new Map<string, string[]>(declared.map((name) => [name, []]));
  for (const name of declared) {
    const own = dependencies.get(name) ?? [];
    waitingOn.set(name, own.length);
    for (const dependency of own) dependents.get(dependency)?.push(name);
  }
  // Ready positions, kept sorted ascending; we take from the front.
  const ready: number[] = [];
  declared.forEach((name, index) => {
    if (waitingOn.get(name) === 0) ready.push(index);
  });
  const order: string[] = [];
  while (ready.length > 0) {
    const index = ready.shift() as number;
    const name = declared[index] as string;
    order.push(name);
    for (const dependent of dependents.get(name) ?? []) {
      const remaining = (waitingOn.get(dependent) ?? 0) - 1;
      waitingOn.set(dependent, remaining);
      if (remaining === 0) insertSorted(ready, position.get(dependent) as number);
    }
  }
  return order.length === declared.length ? order : undefined;
}

function insertSorted(values: number[], value: number): void {
  let low = 0;
  let high = values.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if ((values[middle] as number) < value) low = middle + 1;
    else high = middle;
  }
  values.splice(low, 0, value);
}

/**
 * Finds dependency cycles, each as a list where every child depends on the next and the last on
 * the first. Reports disjoint cycles, at least one whenever the graph has any cycle.
 *
 * Children left over by Kahn's algorithm all have an unfinished dependency, so following
 * unfinished dependencies from any of them must come back to a child already on the walk.
 */
export function findDependencyCycles(
  declared: readonly string[],
  dependencies: ReadonlyMap<string, readonly string[]>,
): string[][] {
  const finished = new Set(topologicalPrefix(declared, dependencies));
  const visited = new Set<string>();
  const cycles: string[][] = [];
  for (const start of declared) {
    if (finished.has(start) || visited.has(start)) continue;
    const walk: string[] = [];
    const onWalk = new Map<string, number>();
    let current: string | undefined = start;
    while (current !== undefined && !visited.has(current)) {
      visited.add(current);
      onWalk.set(current, walk.length);
      walk.push(current);
      const next: string | undefined = (dependencies.get(current) ?? []).find((name) => !finished.has(name));
      if (next !== undefined && onWalk.has(next)) {
        cycles.push(walk.slice(onWalk.get(next)));
        break;
      }
      current = next;
    }
  }
  return cycles;
}

/** The children Kahn's algorithm can order; everything else sits on or behind a cycle. */
function topologicalPrefix(
  declared: readonly string[],
  dependencies: ReadonlyMap<string, readonly string[]>,
): string[] {
  const waitingOn = new Map<string, number>();
  const dependents = new Map<string, string[]>(declared.map((name) => [name, []]));
  for (const name of declared) {
    const own = dependencies.get(name) ?? [];
    waitingOn.set(name, own.length);
    for (const dependency of own) dependents.get(dependency)?.push(name);
  }
  const queue = declared.filter((name) => waitingOn.get(name) === 0);
  for (let head = 0; head < queue.length; head++) {
    for (const dependent of dependents.get(queue[head] as string) ?? []) {
      const remaining = (waitingOn.get(dependent) ?? 0) - 1;
      waitingOn.set(dependent, remaining);
      if (remaining === 0) queue.push(dependent);
    }
  }
  return queue;
}
