import { isMeshError } from '../../src/lib/index.js';

/** The code of the `MeshError` `promise` rejects with; fails the test when it resolves or rejects otherwise. */
export async function rejectionCode(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (error) {
    if (isMeshError(error)) return error.code;
    throw error;
  }
  throw new Error('expected a failure');
}

/** The code of the `MeshError` `run` throws; fails the test when it returns or throws otherwise. */
export function thrownCode(run: () => unknown): string {
  try {
    run();
  } catch (error) {
    if (isMeshError(error)) return error.code;
    throw error;
  }
  throw new Error('expected a failure');
}
