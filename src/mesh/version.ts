import { createRequire } from 'node:module';

let cached: string | undefined;

/** The running MeshOS version (package.json, found by the package's own name from src/ and dist/). */
export function meshosVersion(): string {
  cached ??= (createRequire(import.meta.url)('meshos/package.json') as { version: string }).version;
  return cached;
}
