/** How a promise settled so far, for a test to look at after letting microtasks run. */
export interface PromiseState {
  outcome: 'pending' | 'resolved' | 'rejected';
  error?: unknown;
}

export function track(promise: Promise<unknown>): PromiseState {
  const state: PromiseState = { outcome: 'pending' };
  promise.then(
    () => {
      state.outcome = 'resolved';
    },
    (error: unknown) => {
      state.outcome = 'rejected';
      state.error = error;
    },
  );
  return state;
}
