import { existsSync, readFileSync, writeFileSync } from 'node:fs';

/**
 * Replaces the block between `<!-- name: begin -->` and `<!-- name: end -->` in a report page,
 * or appends it (after the page's hand-written part, which the side-by-side run keeps).
 */
export function writeReportSection(file: string, name: string, markdown: string): void {
  const begin = `<!-- ${name}: begin -->`;
  const end = `<!-- ${name}: end -->`;
  const block = `${begin}\n${markdown}${end}\n`;
  const page = existsSync(file) ? readFileSync(file, 'utf8') : '';
  const start = page.indexOf(begin);
  const stop = page.indexOf(end);
  const next =
    start >= 0 && stop > start
      ? `${page.slice(0, start)}${block}${page.slice(stop + end.length + 1)}`
      : `${page.trimEnd()}\n\n${block}`;
  writeFileSync(file, next);
}

/** A table cell of failures by message, most frequent first ("0" when there were none). */
export function formatErrors(errors: Readonly<Record<string, number>>): string {
  const entries = Object.entries(errors).sort((a, b) => b[1] - a[1]);
  if (entries.length === 0) return '0';
  return entries.map(([message, count]) => `${count} × \`${message}\``).join('<br>');
}
