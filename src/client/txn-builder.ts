/**
 * A small fluent form of a transaction:
 * `client.if('k', 'value', '=', 'v').and('n', 'version', '>', 0).then(put('k', 'w')).else(get('k'))`.
 * `else(...)` and `commit()` send it.
 */
import type {
  Bytes,
  CompareOperator,
  CompareTarget,
  DeleteOptions,
  PutOptions,
  RangeOptions,
  TxnCompare,
  TxnOp,
  TxnRequest,
  TxnResult,
} from './types.js';

/** Operation constructors for transaction branches. */
export const op = {
  get(key: Bytes, options?: RangeOptions): TxnOp {
    return options === undefined ? { type: 'range', key } : { type: 'range', key, options };
  },
  put(key: Bytes, value: Bytes, options?: PutOptions): TxnOp {
    return options === undefined ? { type: 'put', key, value } : { type: 'put', key, value, options };
  },
  delete(key: Bytes, options?: DeleteOptions): TxnOp {
    return options === undefined ? { type: 'delete', key } : { type: 'delete', key, options };
  },
};

export type TxnSender = (request: TxnRequest) => Promise<TxnResult>;

function checkOps(ops: readonly TxnOp[]): TxnOp[] {
  for (const candidate of ops) {
    // Awaiting the builder would call `then` with promise callbacks; refuse that loudly.
    if (typeof candidate !== 'object' || candidate === null || !('type' in candidate)) {
      throw new TypeError('txn branch operations must be made with op.get / op.put / op.delete');
    }
  }
  return [...ops];
}

/** The compare part; `then(...)` gives the success branch. */
export class TxnIf {
  private readonly compares: TxnCompare[];

  constructor(
    private readonly send: TxnSender,
    first: TxnCompare,
  ) {
    this.compares = [first];
  }

  and(key: Bytes, target: CompareTarget, operator: CompareOperator, operand: Bytes | number): TxnIf {
    this.compares.push({ key, target, operator, operand });
    return this;
  }

  // biome-ignore lint/suspicious/noThenProperty: the fluent txn form is if/then/else by design.
  then(...success: TxnOp[]): TxnThen {
    return new TxnThen(this.send, this.compares, checkOps(success));
  }
}

/** Compares and the success branch; `else(...)` or `commit()` sends the transaction. */
export class TxnThen {
  constructor(
    private readonly send: TxnSender,
    private readonly compares: readonly TxnCompare[],
    private readonly success: readonly TxnOp[],
  ) {}

  else(...failure: TxnOp[]): Promise<TxnResult> {
    return this.send({ compare: this.compares, success: this.success, failure: checkOps(failure) });
  }

  commit(): Promise<TxnResult> {
    return this.send({ compare: this.compares, success: this.success, failure: [] });
  }
}
