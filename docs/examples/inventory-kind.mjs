// A daemon kind as a `--daemon-module` exports it (docs/DAEMONS.md, "Writing a kind"): stock
// counts per item. An event is JSON `{"item": "apple", "delta": -2}`; its one output is the
// item's new count as text. Plain JavaScript, no import of MeshOS needed.

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });
const DEFAULT_MAX_ITEMS = 1000;

class Inventory {
  constructor(name, maxItems) {
    this.name = name;
    this.maxItems = maxItems;
    this.stock = new Map();
  }

  process(event) {
    // Check everything first and change the state last: a refused event must change nothing.
    const { item, delta } = JSON.parse(decoder.decode(event.payload));
    if (typeof item !== 'string' || !Number.isSafeInteger(delta)) {
      throw new Error('expected {"item": string, "delta": integer}');
    }
    const count = (this.stock.get(item) ?? 0) + delta;
    if (count < 0) throw new Error(`only ${this.stock.get(item) ?? 0} ${item} in stock`);
    if (!this.stock.has(item) && this.stock.size >= this.maxItems) {
      throw new Error(`inventory holds its limit of ${this.maxItems} items`);
    }
    this.stock.set(item, count);
    return [encoder.encode(String(count))];
  }

  // Deterministic bytes: items sorted, so equal states give equal snapshots on every member.
  snapshot() {
    const items = [...this.stock.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return encoder.encode(JSON.stringify(items));
  }

  restore(state) {
    this.stock = new Map(JSON.parse(decoder.decode(state)));
  }

  health() {
    return { status: 'healthy' };
  }

  saturation() {
    return 0;
  }

  onControl() {}
}

function maxItemsOf(config) {
  const maxItems = config?.maxItems ?? DEFAULT_MAX_ITEMS;
  if (!Number.isSafeInteger(maxItems) || maxItems < 1) {
    throw new Error(`config.maxItems must be a positive integer, got ${JSON.stringify(maxItems)}`);
  }
  return maxItems;
}

export const inventory = {
  name: 'inventory',
  validateConfig(config) {
    maxItemsOf(config);
  },
  create(config, context) {
    return new Inventory(context.daemonName, maxItemsOf(config));
  },
};
