import type { DaemonKindContext } from '../../../src/daemons/index.js';
import { parseNodeId } from '../../../src/lib/index.js';

export const textEncoder = new TextEncoder();
export const textDecoder = new TextDecoder();

export function context(daemonName = 'd1', memberIndex = 0): DaemonKindContext {
  return { daemonName, memberIndex, node: parseNodeId('1') };
}

export function eventOf(text: string): { payload: Uint8Array } {
  return { payload: textEncoder.encode(text) };
}

export function texts(outputs: readonly Uint8Array[]): string[] {
  return outputs.map((output) => textDecoder.decode(output));
}

/**
 * A kind for failure tests. It keeps the text of each payload (snapshot: JSON list) and answers
 * `seen:<count>`, except: `throw` adds itself and then throws; `hang` answers a promise that
 * never settles; `late` answers a promise settled by `releaseLate()` (then adds itself);
 * `async` answers a resolved promise; `many:N` answers N outputs of one byte.
 */
export class ScriptedDaemon {
  readonly seen: string[] = [];
  private readonly lateReleases: (() => void)[] = [];

  constructor(readonly name: string) {}

  process(event: { payload: Uint8Array }): readonly Uint8Array[] | Promise<readonly Uint8Array[]> {
    const text = textDecoder.decode(event.payload);
    if (text === 'throw') {
      this.seen.push(text);
      throw new Error('scripted failure');
    }
    if (text === 'hang') return new Promise(() => {});
    if (text === 'late') {
      return new Promise((resolve) => {
        this.lateReleases.push(() => resolve(this.add(text)));
      });
    }
    if (text === 'async') return Promise.resolve(this.add(text));
    const many = /^many:(\d+)$/.exec(text);
    if (many !== null) return Array.from({ length: Number(many[1]) }, () => new Uint8Array([1]));
    return this.add(text);
  }

  releaseLate(): void {
    for (const release of this.lateReleases.splice(0)) release();
  }

  private add(text: string): Uint8Array[] {
    this.seen.push(text);
    return [textEncoder.encode(`seen:${this.seen.length}`)];
  }

  snapshot(): Uint8Array {
    return textEncoder.encode(JSON.stringify(this.seen));
  }

  restore(state: Uint8Array): void {
    this.seen.splice(0, this.seen.length, ...(JSON.parse(textDecoder.decode(state)) as string[]));
  }

  health(): { status: 'healthy' } {
    return { status: 'healthy' };
  }

  saturation(): number {
    return 0;
  }

  onControl(): void {}
}
