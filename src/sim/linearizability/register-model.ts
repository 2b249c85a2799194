/**
 * A single register (one key of the key-value store) as a sequential specification.
 * State is the value held, `null` when absent.
 */
export type RegisterState = string | null;

/** An operation reduced to what the model needs; `mustReturn` is false for info operations. */
export interface RegisterOperation {
  readonly id: number;
  readonly kind: 'get' | 'put' | 'cas';
  readonly value: string | null;
  readonly expected: string | null;
  /** cas: whether it swapped; for an info cas only the swapping outcome matters. */
  readonly swapped: boolean;
  readonly callTs: number;
  /** Infinity for info operations: they may take effect at any later time, or never. */
  readonly returnTs: number;
  readonly mustReturn: boolean;
  /** Index into the caller's history, for counterexamples. */
  readonly historyIndex: number;
}

/** Applies `operation` to `state`: the next state, or `undefined` when the operation cannot happen there. */
export function stepRegister(state: RegisterState, operation: RegisterOperation): RegisterState | undefined {
  switch (operation.kind) {
    case 'put':
      return operation.value;
    case 'get':
      return state === operation.value ? state : undefined;
    case 'cas':
      if (operation.swapped) return state === operation.expected ? operation.value : undefined;
      return state !== operation.expected ? state : undefined;
  }
}
