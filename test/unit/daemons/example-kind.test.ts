/** The example module of docs/DAEMONS.md ("Writing a kind") loads and behaves as the page says. */
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ExactlyOnceApplier, validateKindConfig } from '../../../src/daemons/index.js';
import { loadKindCatalog } from '../../../src/daemons/node/index.js';
import { ManualClock, type MeshError, ValidationError } from '../../../src/lib/index.js';
import { context, textDecoder, textEncoder, texts } from './fixtures.js';

const EXAMPLE = path.resolve('docs/examples/inventory-kind.mjs');

function event(item: string, delta: number) {
  return { epoch: 1, payload: textEncoder.encode(JSON.stringify({ item, delta })) };
}

describe('the example kind of docs/DAEMONS.md', () => {
  it('loads as a module kind and applies, refuses and restores as documented', async () => {
    const kind = (await loadKindCatalog([EXAMPLE])).get('inventory');
    const options = { kind, config: { maxItems: 2 }, context: context('stock'), clock: new ManualClock() };
    const applier = ExactlyOnceApplier.create(options);
    expect(texts((await applier.apply(event('pear', 3), 0)).outputs)).toEqual(['3']);
    expect(texts((await applier.apply(event('apple', 5), 1)).outputs)).toEqual(['5']);
    const refused = await applier.apply(event('apple', -6), 2).catch((error: MeshError) => error);
    expect(refused).toMatchObject({ code: 'DAEMON_PROCESS_FAILED' });
    expect((refused as MeshError).message).toContain('only 5 apple in stock');
    const full = await applier.apply(event('fig', 1), 3).catch((error: MeshError) => error);
    expect((full as MeshError).message).toContain('inventory holds its limit of 2 items');
    expect(textDecoder.decode(applier.state())).toBe('[["apple",5],["pear",3]]');

    const restored = ExactlyOnceApplier.restore(options, applier.snapshot());
    expect(texts((await restored.apply(event('apple', -2), 4)).outputs)).toEqual(['3']);
    expect(textDecoder.decode(restored.state())).toBe('[["apple",3],["pear",3]]');
  });

  it('has its config checked at deploy, a plain Error becoming VALIDATION_FAILED', async () => {
    const kind = (await loadKindCatalog([EXAMPLE])).get('inventory');
    expect(() => validateKindConfig(kind, { maxItems: 10 })).not.toThrow();
    expect(() => validateKindConfig(kind, { maxItems: 0 })).toThrow(ValidationError);
    expect(() => validateKindConfig(kind, { maxItems: 0 })).toThrow(
      "config of daemon kind 'inventory' is invalid: config.maxItems must be a positive integer, got 0",
    );
  });
});
