/**
 * `npm run build`'s last step: bundles the Deck (src/deck/app, preact + htm) with esbuild into
 * `dist/deck/app.js` beside its page and style sheet, which every node's admin port serves at
 * `/deck`. Nothing is fetched at run time.
 */
import { copyFileSync, mkdirSync } from 'node:fs';
import * as path from 'node:path';
import { build } from 'esbuild';

const source = path.resolve('src', 'deck');
const target = path.resolve('dist', 'deck');
mkdirSync(target, { recursive: true });
await build({
  entryPoints: [path.join(source, 'app', 'main.ts')],
  outfile: path.join(target, 'app.js'),
  bundle: true,
  format: 'esm',
  minify: true,
  sourcemap: true,
  target: ['es2022'],
  logLevel: 'warning',
});
for (const file of ['index.html', 'app.css']) copyFileSync(path.join(source, file), path.join(target, file));
