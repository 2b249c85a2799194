/**
 * Fixed files the admin port serves (the Deck's page and its bundle, built into `dist/deck/`):
 * only the paths listed, read once and kept, never a path taken from the request.
 */
import { readFile } from 'node:fs/promises';
import * as path from 'node:path';

export interface AdminFiles {
  readonly directory: string;
  /** Request path -> file name in `directory` and its content type. */
  readonly paths: Readonly<Record<string, { readonly file: string; readonly type: string }>>;
}

export interface FileAnswer {
  readonly status: number;
  readonly type: string;
  readonly body: string;
}

const cache = new Map<string, string>();

/** The file served at `pathname`, 404 when it is listed but not built, undefined when not listed. */
export async function fileAnswer(files: AdminFiles, pathname: string): Promise<FileAnswer | undefined> {
  const entry = Object.hasOwn(files.paths, pathname) ? files.paths[pathname] : undefined;
  if (entry === undefined) return undefined;
  const location = path.join(files.directory, entry.file);
  let body = cache.get(location);
  if (body === undefined) {
    try {
      body = await readFile(location, 'utf8');
    } catch {
      return { status: 404, type: 'text/plain', body: `${entry.file} is not built (npm run build)\n` };
    }
    cache.set(location, body);
  }
  return { status: 200, type: entry.type, body };
}
