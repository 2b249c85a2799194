import type { Clock } from '../lib/index.js';

export type Raced<T> = { readonly timedOut: false; readonly value: T } | { readonly timedOut: true };

/** Waits for `promise` or for `timeoutMs` on `clock`, whichever comes first; clears the timer. */
export function raceWithTimeout<T>(clock: Clock, promise: Promise<T>, timeoutMs: number): Promise<Raced<T>> {
  return new Promise<Raced<T>>((resolve, reject) => {
    const timer = clock.setTimer(timeoutMs, () => resolve({ timedOut: true }));
    promise.then(
      (value) => {
        clock.clearTimer(timer);
        resolve({ timedOut: false, value });
      },
      (error: unknown) => {
        clock.clearTimer(timer);
        reject(error);
      },
    );
  });
}

export function describeError(error: unknown): string {
  if (error instanceof Error) return error.message;
  return String(error);
}
