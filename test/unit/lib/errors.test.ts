import { describe, expect, it } from 'vitest';
import { AssertionError, assert, isMeshError, MeshError, ValidationError } from '../../../src/lib/index.js';

describe('MeshError', () => {
  it('carries a stable code, details and cause', () => {
    const cause = new Error('disk full');
    const error = new MeshError('STORE_FULL', 'cannot append', { cause, details: { bytes: 10 } });
    expect(error.code).toBe('STORE_FULL');
    expect(error.cause).toBe(cause);
    expect(error.details).toEqual({ bytes: 10 });
    expect(error.name).toBe('MeshError');
    expect(isMeshError(error, 'STORE_FULL')).toBe(true);
    expect(isMeshError(error, 'OTHER')).toBe(false);
    expect(isMeshError(new Error('x'))).toBe(false);
  });

  it('lists every validation problem at once', () => {
    const error = new ValidationError('config', ['a is missing', 'b is negative']);
    expect(error.code).toBe('VALIDATION_FAILED');
    expect(error.problems).toEqual(['a is missing', 'b is negative']);
    expect(error.message).toContain('a is missing; b is negative');
    expect(error.name).toBe('ValidationError');
  });

  it('asserts programmer errors with a lazy message', () => {
    expect(() => assert(false, () => 'broken invariant')).toThrow(AssertionError);
    expect(() => assert(1 + 1 === 2, 'fine')).not.toThrow();
  });
});
