#!/usr/bin/env node
// Bundles what a client command (create, query, destroy, list) loads into one file, so that it
// starts in a fraction of the time: resolving and loading the ~550 modules of libp2p and zod one
// by one is most of a query's time. A second bundle holds the program itself (commander and the
// command files, src/cli/commands/program.ts), which every command, `--help` too, loads first;
// there, the commands' `import()` of their implementations and `import.meta.url` are rewritten into
// calls of the host that src/cli/bundled.ts passes in (a CommonJS script run by node:vm can do
// neither), so that the implementations stay out of it and load only when a command runs.
// Runs after tsc (`npm run build`, `npm test`); the manifest beside each bundle names every input
// (our modules, and each package by its package.json) with its size, mtime and sha1, and
// src/cli/bundled.ts uses the bundle only while they all still match (a new mtime costs a hash:
// tsc rewrites every file), so a bundle older than a later tsc run, or an npm install, is never used.
import { build } from 'esbuild'
import { readFile, stat, writeFile, rm } from 'node:fs/promises'
import { createHash } from 'node:crypto'
import { fileURLToPath } from 'node:url'
import { join, relative, resolve } from 'node:path'

const root = fileURLToPath(new URL('../', import.meta.url))
/** `import.meta.url` and `import('...')` in our modules, as calls of the host src/cli/bundled.ts gives the bundle */
const viaHost = {
  name: 'vmplant-host',
  setup (b) {
    b.onLoad({ filter: /[\\/]dist[\\/](src|sim)[\\/].*\.js$/ }, async (args) => {
      const from = JSON.stringify(relative(root, args.path))
      const contents = (await readFile(args.path, 'utf8'))
        .replace(/\bimport\.meta\.url\b/g, `__vmplant.url(${from})`)
        .replace(/\bimport\((['"])([^'"]+)\1\)/g, (_, quote, specifier) => `__vmplant.import(${JSON.stringify(specifier)}, ${from})`)
      return { contents, loader: 'js' }
    })
  }
}

const bundles = [
  { entry: 'dist/src/cli/actions/client-actions.js', out: 'dist/src/cli/actions/client-actions.bundle.cjs', plugins: [] },
  { entry: 'dist/src/cli/commands/program.js', out: 'dist/src/cli/commands/program.bundle.cjs', plugins: [viaHost] }
]

for (const { entry, out, plugins } of bundles) {
  const manifest = join(root, out.replace(/\.cjs$/, '.json'))
  // a half-written bundle must not be taken for a fresh one, nor the code cache of the one before
  await rm(manifest, { force: true })
  await rm(join(root, `${out}.v8cache`), { force: true })
  const result = await build({
    absWorkingDir: root,
    entryPoints: [entry],
    outfile: out,
    bundle: true,
    platform: 'node',
    // CommonJS, so that src/cli/bundled.ts can run it with V8's code cache (Node 20 has none for ES modules)
    format: 'cjs',
    target: 'node20',
    metafile: true,
    minify: true,
    // error classes and libp2p's components are told apart by name
    keepNames: true,
    // one function expression, which src/cli/bundled.ts compiles and calls with CommonJS's bindings
    // and its host; ASCII only (esbuild escapes the rest), so that it can read it as latin1
    charset: 'ascii',
    banner: { js: '(function (exports, require, module, __filename, __dirname, __vmplant) {' },
    footer: { js: '})' },
    logLevel: 'warning',
    plugins
  })
  // a package is checked by its package.json (its version), our own modules each
  // this script and the runner: a bundle made by another version of either is stale too
  const files = new Set(['scripts/bundle-cli.mjs', 'dist/src/cli/bundled.js'])
  for (const file of Object.keys(result.metafile.inputs)) {
    const pkg = /^(.*node_modules\/(?:@[^/]+\/)?[^/]+)\//.exec(file)
    files.add(pkg !== null ? `${pkg[1]}/package.json` : file)
  }
  const inputs = []
  for (const file of files) {
    const path = resolve(root, file)
    const s = await stat(path)
    inputs.push([relative(root, path), s.size, s.mtimeMs, createHash('sha1').update(await readFile(path)).digest('hex')])
  }
  await writeFile(manifest, JSON.stringify({ entry, inputs }) + '\n')
  console.error(`bundle-cli: ${out} from ${Object.keys(result.metafile.inputs).length} modules (${inputs.length} inputs checked)`)
}
