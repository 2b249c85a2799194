import type { Disk, DiskFile, OpenMode, OpenOptions } from '../../src/lib/index.js';

/**
 * `disk`, except that each file it opens has the methods `overrides` returns for it in place of
 * its own (the rest stay the file's): how tests make a file's writes or syncs slow, failing or
 * counted.
 */
export function withFileOverrides(
  disk: Disk,
  overrides: (file: DiskFile, mode: OpenMode) => Partial<DiskFile>,
): Disk {
  return Object.assign(Object.create(disk) as Disk, {
    open: async (filePath: string, mode: OpenMode, options?: OpenOptions): Promise<DiskFile> => {
      const file = await disk.open(filePath, mode, options);
      return Object.assign(Object.create(file) as DiskFile, overrides(file, mode));
    },
  });
}
