import { createHash } from 'node:crypto'
import { readFileSync, renameSync, statSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { Script } from 'node:vm'

/** the package root: this file runs from dist/src/cli/ */
const packageRoot = fileURLToPath(new URL('../../../', import.meta.url))

/** bundles this process ran already, by file: a command run twice in one process (tests) runs its bundle once */
const ran = new Map<string, unknown>()

/**
 * What a bundle's modules call for `import.meta.url` and `import()` (scripts/bundle-cli.mjs
 * rewrites them so in the program's bundle), which a CommonJS script run by node:vm has not:
 * `file` and `from` are a module's path from the package root, as it was before bundling.
 */
const host = {
  url: (file: string): string => pathToFileURL(join(packageRoot, file)).href,
  import: async (specifier: string, from: string): Promise<unknown> =>
    await import(specifier.startsWith('.') ? new URL(specifier, pathToFileURL(join(packageRoot, from))).href : specifier)
}

/**
 * Loads a command's implementation from its bundle (scripts/bundle-cli.mjs: one CommonJS file
 * instead of ~600 modules, most of a client command's start) when the bundle is there and every
 * input it was made from is unchanged; else `modules()`, the same code as separate modules. A
 * stale bundle is never run. VMPLANT_NO_BUNDLE=1 always takes the modules.
 */
export async function loadBundled<T> (bundle: string, modules: () => Promise<T>): Promise<T> {
  if (process.env.VMPLANT_NO_BUNDLE !== '1' && bundleIsFresh(bundle)) return runCached(join(packageRoot, bundle)) as T
  return await modules()
}

/**
 * Runs a CommonJS bundle with V8's code cache beside it (`<bundle>.v8cache`), which saves most of
 * its compile time. V8 refuses a cache made for other source or another V8 (then it is made
 * again); it is written when the process exits, so that it holds the functions the command ran,
 * and only by a process that found none that fitted. A folder it cannot write to just goes without.
 */
function runCached (file: string): unknown {
  const known = ran.get(file)
  if (known !== undefined) return known
  const cacheFile = `${file}.v8cache`
  let cachedData: Buffer | undefined
  try {
    cachedData = readFileSync(cacheFile)
  } catch {}
  // the bundle is one function expression (scripts/bundle-cli.mjs) in ASCII: read as latin1, a file
  // of a megabyte becomes an external string, outside V8's heap, rather than two copies within it
  // (the text and the text wrapped), which cost a query garbage collections
  const script = new Script(readFileSync(file, 'latin1'), { filename: file, ...(cachedData !== undefined ? { cachedData } : {}) })
  const module = { exports: {} as unknown }
  script.runInThisContext()(module.exports, createRequire(file), module, file, dirname(file), host)
  if (cachedData === undefined || script.cachedDataRejected === true) {
    process.once('exit', () => {
      try {
        const tmp = `${cacheFile}.${process.pid}.tmp`
        writeFileSync(tmp, script.createCachedData())
        renameSync(tmp, cacheFile)
      } catch {}
    })
  }
  ran.set(file, module.exports)
  return module.exports
}

/** whether the manifest beside `bundle` (relative to `root`) lists inputs that all still match */
export function bundleIsFresh (bundle: string, root: string = packageRoot): boolean {
  let manifest: { inputs: Array<[string, number, number, string]> }
  try {
    manifest = JSON.parse(readFileSync(join(root, bundle.replace(/\.c?js$/, '.json')), 'utf8'))
    statSync(join(root, bundle))
  } catch {
    return false
  }
  for (const [file, size, mtimeMs, sha1] of manifest.inputs) {
    const path = join(root, file)
    let s
    try {
      s = statSync(path)
    } catch {
      return false
    }
    if (s.size !== size) return false
    // tsc rewrites unchanged files: a new mtime with the same content is still fresh
    if (s.mtimeMs !== mtimeMs && createHash('sha1').update(readFileSync(path)).digest('hex') !== sha1) return false
  }
  return true
}
