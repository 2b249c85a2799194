import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type ChildSpec, compile, restartSet, type Strategy } from '../../../src/supervisor/index.js';

const noop = async (): Promise<void> => {};
const RUNS = 200;

/** A graph as declaration-ordered names plus each one's dependency indices. */
interface Graph {
  readonly names: string[];
  readonly dependsOn: number[][];
}

const anyGraph: fc.Arbitrary<Graph> = fc
  .integer({ min: 1, max: 20 })
  .chain((size) =>
    fc.record({
      size: fc.constant(size),
      edges: fc.array(fc.tuple(fc.nat(size - 1), fc.nat(size - 1)), { maxLength: size * 2 }),
    }),
  )
  .map(({ size, edges }) => {
    const dependsOn: number[][] = Array.from({ length: size }, () => []);
    for (const [from, to] of edges) if (!dependsOn[from]?.includes(to)) dependsOn[from]?.push(to);
    return { names: Array.from({ length: size }, (_, index) => `c${index}`), dependsOn };
  });

/** DAGs: a random rank per node, and a node may only depend on lower-ranked ones. */
const dag: fc.Arbitrary<Graph> = fc
  .integer({ min: 1, max: 25 })
  .chain((size) =>
    fc.record({
      size: fc.constant(size),
      ranks: fc.shuffledSubarray(
        Array.from({ length: size }, (_, index) => index),
        { minLength: size, maxLength: size },
      ),
      edges: fc.array(fc.tuple(fc.nat(size - 1), fc.nat(size - 1)), { maxLength: size * 3 }),
    }),
  )
  .map(({ size, ranks, edges }) => {
    const dependsOn: number[][] = Array.from({ length: size }, () => []);
    for (const [from, to] of edges) {
      if ((ranks[from] as number) > (ranks[to] as number) && !dependsOn[from]?.includes(to))
        dependsOn[from]?.push(to);
    }
    return { names: Array.from({ length: size }, (_, index) => `c${index}`), dependsOn };
  });

function specOf(graph: Graph, strategy: Strategy = 'one-for-one') {
  const children: ChildSpec[] = graph.names.map((name, index) => ({
    name,
    start: noop,
    dependsOn: (graph.dependsOn[index] ?? []).map((target) => graph.names[target] as string),
  }));
  return { name: 'root', strategy, children };
}

function isAcyclic(graph: Graph): boolean {
  const state = new Array<'new' | 'open' | 'done'>(graph.names.length).fill('new');
  const visit = (node: number): boolean => {
    if (state[node] === 'open') return false;
    if (state[node] === 'done') return true;
    state[node] = 'open';
    for (const next of graph.dependsOn[node] ?? []) if (!visit(next)) return false;
    state[node] = 'done';
    return true;
  };
  return graph.names.every((_, node) => visit(node));
}

describe('compile properties', () => {
  it('orders every random DAG so each child starts after all it depends on, deterministically', () => {
    fc.assert(
      fc.property(dag, (graph) => {
        const result = compile(specOf(graph));
        expect(result.ok).toBe(true);
        if (!result.ok) return;
        const { startOrder, stopOrder } = result.compiled;
        expect([...startOrder].sort()).toEqual([...graph.names].sort());
        const position = new Map(startOrder.map((name, index) => [name, index]));
        graph.dependsOn.forEach((targets, from) => {
          for (const to of targets) {
            expect(position.get(graph.names[to] as string)).toBeLessThan(
              position.get(graph.names[from] as string) as number,
            );
          }
        });
        expect(stopOrder).toEqual([...startOrder].reverse());
        const again = compile(specOf(graph));
        expect(again.ok && again.compiled.startOrder).toEqual(startOrder);
      }),
      { numRuns: RUNS },
    );
  });

  it('breaks ties by declaration order: each next child is the earliest declared one that may start', () => {
    fc.assert(
      fc.property(dag, (graph) => {
        const result = compile(specOf(graph));
        if (!result.ok) throw new Error('a DAG must compile');
        const started = new Set<number>();
        for (const name of result.compiled.startOrder) {
          const earliest = graph.names.findIndex(
            (_, index) =>
              !started.has(index) && (graph.dependsOn[index] ?? []).every((target) => started.has(target)),
          );
          expect(graph.names[earliest]).toBe(name);
          started.add(earliest);
        }
      }),
      { numRuns: RUNS },
    );
  });

  it('rejects exactly the graphs with a cycle, and every reported cycle is a real one', () => {
    fc.assert(
      fc.property(anyGraph, (graph) => {
        const result = compile(specOf(graph));
        expect(result.ok).toBe(isAcyclic(graph));
        if (result.ok) return;
        const cycles = result.problems.flatMap((problem) =>
          problem.code === 'DEPENDENCY_CYCLE' ? [problem.cycle] : [],
        );
        expect(cycles.length).toBeGreaterThan(0);
        expect(result.problems.every((problem) => problem.code === 'DEPENDENCY_CYCLE')).toBe(true);
        for (const cycle of cycles) {
          expect(new Set(cycle).size).toBe(cycle.length);
          cycle.forEach((name, index) => {
            const next = cycle[(index + 1) % cycle.length] as string;
            const from = graph.names.indexOf(name);
            expect(graph.dependsOn[from]).toContain(graph.names.indexOf(next));
          });
        }
      }),
      { numRuns: RUNS },
    );
  });

  it('restart sets contain the failed child, keep start order and include every dependent', () => {
    const strategy = fc.constantFrom<Strategy>('one-for-one', 'rest-for-one', 'one-for-all');
    fc.assert(
      fc.property(dag, strategy, fc.nat(), (graph, chosen, pick) => {
        const result = compile(specOf(graph, chosen));
        if (!result.ok) throw new Error('a DAG must compile');
        const compiled = result.compiled;
        const failed = graph.names[pick % graph.names.length] as string;
        const set = restartSet(compiled, failed);
        expect(set).toContain(failed);
        expect(set).toEqual(compiled.startOrder.filter((name) => set.includes(name)));
        for (const name of set) {
          for (const dependent of compiled.childrenByName.get(name)?.dependents ?? [])
            expect(set).toContain(dependent);
        }
        const failedPosition = compiled.startOrder.indexOf(failed);
        if (chosen === 'rest-for-one') expect(set).toEqual(compiled.startOrder.slice(failedPosition));
        if (chosen === 'one-for-all') expect(set).toEqual(compiled.startOrder);
      }),
      { numRuns: RUNS },
    );
  });
});
