import { describe, expect, it } from 'vitest';
import { isNodeId, nodeIdFromText, parseNodeId, ValidationError } from '../../../src/lib/index.js';

describe('node ids', () => {
  it('accepts positive safe integers only', () => {
    expect(isNodeId(1)).toBe(true);
    expect(isNodeId(Number.MAX_SAFE_INTEGER)).toBe(true);
    for (const bad of [0, -1, 1.5, Number.MAX_SAFE_INTEGER + 1, Number.NaN, '1', null]) {
      expect(isNodeId(bad)).toBe(false);
    }
  });

  it('parses decimal text and refuses anything else with a typed error', () => {
    expect(parseNodeId('42')).toBe(42);
    expect(nodeIdFromText('9007199254740991')).toBe(Number.MAX_SAFE_INTEGER);
    for (const bad of ['0', '-3', '01', '1e3', ' 7', '9007199254740992', 'node-1', '']) {
      expect(() => parseNodeId(bad)).toThrow(ValidationError);
      expect(nodeIdFromText(bad)).toBeUndefined();
    }
  });
});
