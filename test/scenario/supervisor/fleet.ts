import type { ChildContext, ChildStart, DrainHandler } from '../../../src/supervisor/index.js';

/** Lets every pending promise callback and immediate run, so a test sees the settled state. */
export async function settle(rounds = 10): Promise<void> {
  for (let round = 0; round < rounds; round++) await new Promise<void>((resolve) => setImmediate(resolve));
}

export interface ScriptedChildOptions {
  /** Call `ready()` as soon as started (default true). */
  readonly autoReady?: boolean;
  /** Keep running after the abort signal fires (a misbehaving child). */
  readonly ignoreAbort?: boolean;
  /** Return an error to make that incarnation fail before it is ready. */
  readonly failStart?: (incarnation: number) => Error | undefined;
  readonly drain?: DrainHandler;
  /** Value published under the child's name lease once started. */
  readonly publish?: unknown;
}

interface Life {
  readonly context: ChildContext;
  crash(message: string): void;
  exit(): void;
}

/**
 * Children driven by the test: each records `start name#n` and `stop name#n` in `trace`, and can
 * be made ready, crashed or ended from outside.
 */
export class Fleet {
  readonly trace: string[] = [];
  readonly contexts = new Map<string, ChildContext[]>();
  private readonly lives = new Map<string, Life>();

  child(name: string, options: ScriptedChildOptions = {}): ChildStart {
    return (signal, context) =>
      new Promise<void>((resolve, reject) => {
        this.trace.push(`start ${name}#${context.incarnation}`);
        const contexts = this.contexts.get(name) ?? [];
        contexts.push(context);
        this.contexts.set(name, contexts);
        const failure = options.failStart?.(context.incarnation);
        if (failure !== undefined) {
          reject(failure);
          return;
        }
        const life: Life = {
          context,
          crash: (message) => reject(new Error(message)),
          exit: () => resolve(),
        };
        this.lives.set(name, life);
        if (options.drain !== undefined) context.onDrain(options.drain);
        if (options.publish !== undefined) context.publish(options.publish);
        signal.addEventListener(
          'abort',
          () => {
            // A child that already ended has nothing to stop.
            if (this.lives.get(name) !== life) return;
            this.trace.push(`stop ${name}#${context.incarnation}`);
            if (options.ignoreAbort !== true) {
              this.lives.delete(name);
              resolve();
            }
          },
          { once: true },
        );
        if (options.autoReady ?? true) context.ready();
      });
  }

  crash(name: string, message = `${name} crashed`): void {
    const life = this.lives.get(name);
    if (life === undefined) throw new Error(`no live child ${name}`);
    this.lives.delete(name);
    life.crash(message);
  }

  exit(name: string): void {
    const life = this.lives.get(name);
    if (life === undefined) throw new Error(`no live child ${name}`);
    this.lives.delete(name);
    life.exit();
  }

  ready(name: string): void {
    this.lives.get(name)?.context.ready();
  }

  context(name: string): ChildContext {
    const contexts = this.contexts.get(name);
    const last = contexts?.[contexts.length - 1];
    if (last === undefined) throw new Error(`child ${name} never started`);
    return last;
  }

  /** Trace entries since the given length, and marks nothing: use `trace.length` as a cursor. */
  since(cursor: number): string[] {
    return this.trace.slice(cursor);
  }
}

/** Advances a ManualClock in steps, settling promises after each, so timers set by async work fire too. */
export async function runFor(
  clock: { advance(ms: number): void },
  totalMs: number,
  stepMs = 10,
): Promise<void> {
  for (let elapsedMs = 0; elapsedMs < totalMs; elapsedMs += stepMs) {
    clock.advance(Math.min(stepMs, totalMs - elapsedMs));
    await settle();
  }
}
