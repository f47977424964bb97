#!/usr/bin/env node
// Bundles what a client command (create, query, destroy, list) loads into one file, so that it
// starts in a fraction of the time: resolving and loading the ~550 modules of libp2p and zod one
// by one is most of a query's time. Runs after tsc (`npm run build`, `npm test`); the manifest
// beside the bundle names every input (our modules, and each package by its package.json) with
// its size, mtime and sha1, and src/cli/bundled.ts uses
// the bundle only while they all still match (a new mtime costs a hash: tsc rewrites every file),
// so a bundle older than a later tsc run, or an npm install, is never used.
import { build } from 'esbuild'
import { readFile, stat, writeFile, rm } from 'node:fs/promises'
import { createHash } from 'node:crypto'
import { fileURLToPath } from 'node:url'
import { join, relative, resolve } from 'node:path'

const root = fileURLToPath(new URL('../', import.meta.url))
const bundles = [{ entry: 'dist/src/cli/actions/client-actions.js', out: 'dist/src/cli/actions/client-actions.bundle.cjs' }]

for (const { entry, out } of bundles) {
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
    logLevel: 'warning'
  })
  // a package is checked by its package.json (its version), our own modules each
  const files = new Set()
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
