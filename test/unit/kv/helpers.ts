import {
  type ApplyOutcome,
  type KvCommand,
  type KvResult,
  KvStateMachine,
  utf8,
} from '../../../src/kv/index.js';

export const text = (bytes: Uint8Array): string => new TextDecoder().decode(bytes);
export const bytes = utf8;

/** A state machine with a running log index, applying typed commands through the binary codec. */
export class Harness {
  readonly machine: KvStateMachine;
  private index: number;

  /** `startIndex`: the log index the machine has applied (a restored machine continues from it). */
  constructor(machine = new KvStateMachine(), startIndex = 0) {
    this.machine = machine;
    this.index = startIndex;
  }

  run(command: KvCommand): ApplyOutcome {
    return this.machine.applyCommand(++this.index, command);
  }

  /** Applies and returns the result, failing the test if it is an error. */
  ok<T extends KvResult['type']>(command: KvCommand, type: T): Extract<KvResult, { type: T }> {
    const outcome = this.run(command);
    if (outcome.result.type === 'error') throw outcome.result.error;
    if (outcome.result.type !== type) throw new Error(`expected ${type}, got ${outcome.result.type}`);
    return outcome.result as Extract<KvResult, { type: T }>;
  }

  /** Applies and returns the error code, failing the test if it succeeded. */
  error(command: KvCommand): string {
    const outcome = this.run(command);
    if (outcome.result.type !== 'error') throw new Error(`expected an error, got ${outcome.result.type}`);
    return outcome.result.error.code;
  }

  put(key: string, value: string, lease = 0): ApplyOutcome {
    return this.run({ type: 'put', key: bytes(key), value: bytes(value), lease });
  }

  get(key: string, revision = 0): string | undefined {
    const result = this.ok({ type: 'range', key: bytes(key), revision }, 'range');
    const kv = result.kvs[0];
    return kv === undefined ? undefined : text(kv.value);
  }
}
