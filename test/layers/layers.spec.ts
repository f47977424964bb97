/**
 * The import rules (.dependency-cruiser.cjs) run in `npm test` on src/ and sim/. These tests show
 * they can fail: dependency-cruiser's command, with the project's config and tsconfig, is run on
 * small trees written into a temporary folder (never compiled by tsc), one breaking every rule
 * and one keeping them all.
 */
import test from 'ava'
import { execFile } from 'node:child_process'
import { copyFile, mkdir, writeFile } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { tempDir } from '../helpers/temp.js'

/** The package's root folder (this file runs from dist/test/layers/). */
const root = fileURLToPath(new URL('../../../', import.meta.url))
const depcruise = join(root, 'node_modules', 'dependency-cruiser', 'bin', 'dependency-cruise.mjs')
const config = join(root, '.dependency-cruiser.cjs')

type Tree = Record<string, string>

/** Stand-ins for npm packages, so the trees resolve them as a real checkout does. */
const packages: Tree = Object.fromEntries(['zod', 'multiformats', 'level'].flatMap((name) => [
  [`node_modules/${name}/package.json`, JSON.stringify({ name, version: '1.0.0', type: 'module', main: 'index.js' })],
  [`node_modules/${name}/index.js`, 'export const x = 1\n']
]))

async function withTree (tree: Tree, run: (dir: string) => Promise<void>): Promise<void> {
  const dir = await tempDir('vmplant-layers-')
  try {
    await copyFile(join(root, 'tsconfig.json'), join(dir.path, 'tsconfig.json'))
    const files: Tree = {
      'package.json': JSON.stringify({ name: 'layers-fixture', type: 'module', dependencies: { zod: '1', multiformats: '1', level: '1' } }),
      'sim/README.md': 'the simulator\n',
      ...packages,
      ...tree
    }
    for (const [path, text] of Object.entries(files)) {
      await mkdir(dirname(join(dir.path, path)), { recursive: true })
      await writeFile(join(dir.path, path), text)
    }
    await run(dir.path)
  } finally {
    await dir.remove()
  }
}

interface Outcome { code: number, stdout: string, stderr: string }

/** `depcruise src sim` as `npm run lint:layers` runs it, in `cwd`. */
async function cruise (cwd: string, outputType: 'json' | 'err-long'): Promise<Outcome> {
  return await new Promise((resolve, reject) => {
    execFile(process.execPath, [depcruise, 'src', 'sim', '--config', config, '--output-type', outputType],
      { cwd, maxBuffer: 64 * 1024 * 1024, timeout: 60_000 },
      (err, stdout, stderr) => {
        if (err != null && typeof err.code !== 'number') { reject(err); return }
        resolve({ code: typeof err?.code === 'number' ? err.code : 0, stdout, stderr })
      })
  })
}

interface Violation { rule: { name: string }, from: string, to: string, cycle?: Array<{ name: string }> }

/** Each violation as `rule: from -> to` (a cycle as its files, in order). */
async function violations (cwd: string): Promise<string[]> {
  const { stdout } = await cruise(cwd, 'json')
  const result = JSON.parse(stdout) as { summary: { violations: Violation[] } }
  return result.summary.violations.map((v) => {
    const to = v.cycle != null && v.cycle.length > 0 ? v.cycle.map((c) => c.name).join(' -> ') : v.to
    return `${v.rule.name}: ${v.from} -> ${to}`
  }).sort()
}

const broken: Tree = {
  // the contract imports an actor, once for its value and once for a type only
  'src/interface/a.ts': "import { b } from '../actors/b.js'\nexport const a = b\n",
  'src/interface/t.ts': "import type { B } from '../actors/b.js'\nexport type T = B\n",
  'src/actors/b.ts': 'export const b = 1\nexport type B = number\n',
  // the planner does I/O, uses an impure package and reaches into the store
  'src/planner/p.ts': "import { readFileSync } from 'node:fs'\nimport { x } from 'level'\nimport { s } from '../store/s.js'\nexport const p = [readFileSync, x, s]\n",
  'src/store/s.ts': 'export const s = 1\n',
  // an actor talks to the network directly and holds a driver
  'src/actors/x.ts': "import { y } from '../net/y.js'\nexport const x = y\n",
  'src/net/y.ts': 'export const y = 1\n',
  'src/actors/d.ts': "import { line } from '../hypervisor/qemu/line.js'\nexport const d = line\n",
  // ... opens the store itself instead of using the port it is given
  'src/actors/o.ts': "import { s } from '../store/s.js'\nexport const o = s\n",
  'src/hypervisor/qemu/line.ts': 'export const line = 1\n',
  // ... or reaches one through the port's re-export
  'src/actors/r.ts': "import { sim } from '../hypervisor/index.js'\nexport const r = sim\n",
  'src/hypervisor/index.ts': "export { sim } from './sim/index.js'\n",
  'src/hypervisor/sim/index.ts': 'export const sim = 1\n',
  // a driver factory reads the daemon's config
  'src/hypervisor/create.ts': "import { config } from '../daemon/config.js'\nexport const create = config\n",
  'src/daemon/config.ts': 'export const config = 1\n',
  // the composition root reaches up to the command line
  'src/daemon/w.ts': "import { main } from '../cli/main.js'\nexport const w = main\n",
  'src/cli/main.ts': 'export const main = 1\n',
  // a command file loads the network and the store for every run of the command line, --help too
  'src/cli/commands/c.ts': "import { y } from '../../net/y.js'\nimport { x } from 'level'\nexport const c = [y, x]\n",
  // the simulator uses the real network
  'sim/run.ts': "import { y } from '../src/net/y.js'\nexport const run = y\n",
  // two modules import each other
  'src/net/c1.ts': "import { c2 } from './c2.js'\nexport const c1 = (): number => c2()\n",
  'src/net/c2.ts': "import { c1 } from './c1.js'\nexport const c2 = (): number => c1()\n",
  // an import that resolves to nothing would escape every rule
  'src/store/u.ts': "import { gone } from './missing.js'\nexport const u = gone\n",
  // one actor borrows another's code
  'src/actors/shop/rank.ts': "import { fit } from '../plant/fit.js'\nexport const rank = fit\n",
  'src/actors/plant/fit.ts': 'export const fit = 1\nexport type Fit = number\n',
  // a driver hashes with the store's helper; the store names a line's type; the wire writes the store
  'src/hypervisor/qemu/import.ts': "import { s } from '../../store/s.js'\nexport const load = s\n",
  'src/store/w.ts': "import type { Line } from '../hypervisor/line.js'\nexport type W = Line\n",
  'src/hypervisor/line.ts': 'export type Line = number\n',
  'src/net/images.ts': "import { s } from '../store/s.js'\nexport const images = s\n",
  // the composition root and the simulator build an actor's messages themselves, not through the edge table
  'src/actors/shop/messages.ts': "export const shopMessages = { changed: (): string => 'changed' }\nexport type ShopMessage = string\n",
  'src/daemon/m.ts': "import { shopMessages } from '../actors/shop/messages.js'\nexport const m = shopMessages\n",
  'sim/feed.ts': "import { shopMessages } from '../src/actors/shop/messages.js'\nexport const feed = shopMessages\n",
  // the command line names a type of an actor's
  'src/cli/view.ts': "import type { Fit } from '../actors/plant/fit.js'\nexport type View = Fit\n",
  // pricing reads a file and reaches into an actor; golden images reach into the store; the wire knows golden images
  'src/pricing/cost.ts': "import { readFileSync } from 'node:fs'\nimport { fit } from '../actors/plant/fit.js'\nexport const cost = [readFileSync, fit]\n",
  'src/images/catalog.ts': "import { s } from '../store/s.js'\nexport const catalog = s\n",
  'src/net/served.ts': "import { catalog } from '../images/catalog.js'\nexport const served = catalog\n",
  // the edge table decodes frames itself
  'src/edges/rows.ts': "import { y } from '../net/y.js'\nexport const rows = y\n",
  // the durable-file helper reaches up into the store, and an actor writes a file itself
  'src/fs/w.ts': "import { s } from '../store/s.js'\nexport const w = s\n",
  'src/actors/f.ts': "import { w } from '../fs/w.js'\nexport const f = w\n"
}

test('every import rule reports its violation by name', async (t) => {
  await withTree(broken, async (dir) => {
    t.deepEqual(await violations(dir), [
      'actors-not-reach-drivers: src/actors/d.ts -> src/hypervisor/qemu/line.ts',
      'actors-not-reach-drivers: src/actors/r.ts -> src/hypervisor/sim/index.ts',
      'actors-not-to-drivers: src/actors/d.ts -> src/hypervisor/qemu/line.ts',
      'actors-not-to-net-daemon-cli: src/actors/x.ts -> src/net/y.ts',
      'actors-not-to-fs: src/actors/f.ts -> src/fs/w.ts',
      'actors-store-types-only: src/actors/o.ts -> src/store/s.ts',
      'actor-not-to-another-actor: src/actors/shop/rank.ts -> src/actors/plant/fit.ts',
      'cli-not-to-actors: src/cli/view.ts -> src/actors/plant/fit.ts',
      'hypervisor-not-to-store: src/hypervisor/qemu/import.ts -> src/store/s.ts',
      'net-not-to-store: src/net/images.ts -> src/store/s.ts',
      'only-edges-build-actor-messages: sim/feed.ts -> src/actors/shop/messages.ts',
      'only-edges-build-actor-messages: src/daemon/m.ts -> src/actors/shop/messages.ts',
      'store-not-to-hypervisor: src/store/w.ts -> src/hypervisor/line.ts',
      'fs-imports-nothing-of-ours: src/fs/w.ts -> src/store/s.ts',
      'cli-commands-load-lazily: src/cli/commands/c.ts -> node_modules/level/index.js',
      'cli-commands-load-lazily: src/cli/commands/c.ts -> src/net/y.ts',
      'daemon-not-to-cli: src/daemon/w.ts -> src/cli/main.ts',
      'interface-imports-nothing-of-ours: src/interface/a.ts -> src/actors/b.ts',
      'interface-imports-nothing-of-ours: src/interface/t.ts -> src/actors/b.ts',
      'no-circular: src/net/c1.ts -> src/net/c2.ts -> src/net/c1.ts',
      'not-to-unresolvable: src/store/u.ts -> ./missing.js',
      'planner-only-interface: src/planner/p.ts -> src/store/s.ts',
      'planner-pure: src/planner/p.ts -> fs',
      'planner-pure: src/planner/p.ts -> node_modules/level/index.js',
      'ports-not-to-actors-daemon-cli: src/hypervisor/create.ts -> src/daemon/config.ts',
      'sim-only-interface-actors-planner-sim-line: sim/run.ts -> src/net/y.ts',
      'pricing-pure-on-interface-planner: src/pricing/cost.ts -> fs',
      'pricing-pure-on-interface-planner: src/pricing/cost.ts -> src/actors/plant/fit.ts',
      'images-on-the-contract: src/images/catalog.ts -> src/store/s.ts',
      'images-used-from-above: src/net/served.ts -> src/images/catalog.ts',
      'edges-not-to-net-store-hypervisor: src/edges/rows.ts -> src/net/y.ts'
    ].sort())
  })
})

test('a violation fails the check that npm test runs, naming the rule', async (t) => {
  await withTree({
    'src/interface/a.ts': "import { b } from '../actors/b.js'\nexport const a = b\n",
    'src/actors/b.ts': 'export const b = 1\n'
  }, async (dir) => {
    const { code, stdout } = await cruise(dir, 'err-long')
    t.not(code, 0)
    t.regex(stdout, /error interface-imports-nothing-of-ours: src\/interface\/a\.ts → src\/actors\/b\.ts/)
  })
})

const clean: Tree = {
  'src/interface/index.ts': "import { x } from 'zod'\nexport type { Clock } from './clock.js'\nexport const schema = x\n",
  'src/interface/clock.ts': 'export interface Clock { now: () => number }\n',
  'src/planner/match.ts': "import { createHash } from 'node:crypto'\nimport { x } from 'multiformats'\nimport type { Clock } from '../interface/index.js'\nimport { schema } from '../interface/index.js'\nexport const match = (c: Clock): unknown => [createHash, x, schema, c]\n",
  'src/fs/index.ts': "import { rename } from 'node:fs/promises'\nexport const writeFileDurably = rename\n",
  'src/net/node.ts': "import { readFile } from 'node:fs/promises'\nimport type { Clock } from '../interface/index.js'\nimport { writeFileDurably } from '../fs/index.js'\nexport const node = (c: Clock): unknown => [readFile, writeFileDurably, c]\n",
  'src/store/plant-store.ts': "import { x } from 'level'\nimport type { Clock } from '../interface/index.js'\nimport { writeFileDurably } from '../fs/index.js'\nexport const store = (c: Clock): unknown => [x, c, writeFileDurably]\n",
  'src/hypervisor/index.ts': "export type { Clock } from '../interface/index.js'\n",
  'src/hypervisor/sim/index.ts': "import type { Clock } from '../index.js'\nexport const simLine = (c: Clock): unknown => c\n",
  'src/hypervisor/qemu/index.ts': "import { spawn } from 'node:child_process'\nimport { writeFileDurably } from '../../fs/index.js'\nexport const qemuLine = [spawn, writeFileDurably]\n",
  'src/cli/domain-folder.ts': "import { writeFileDurably } from '../fs/index.js'\nexport const folder = writeFileDurably\n",
  'src/hypervisor/create.ts': "import { simLine } from './sim/index.js'\nimport { qemuLine } from './qemu/index.js'\nexport const create = [simLine, qemuLine]\n",
  'src/actors/plant.ts': "import { match } from '../planner/match.js'\nimport type { store } from '../store/plant-store.js'\nimport type { Clock } from '../hypervisor/index.js'\nexport const plant = (c: Clock, s: typeof store): unknown => [match(c), s]\n",
  'src/daemon/wiring.ts': "import { plant } from '../actors/plant.js'\nimport { node } from '../net/node.js'\nimport { store } from '../store/plant-store.js'\nimport { create } from '../hypervisor/create.js'\nexport const wiring = [plant, node, store, create]\n",
  // an actor uses the runtime, the actors' shared errors and its own messages; only the edge table builds them from outside
  'src/actors/runtime/actor.ts': 'export const spawn = 1\n',
  'src/actors/errors.ts': 'export const ActorError = 1\n',
  'src/actors/shop/messages.ts': "export const shopMessages = { changed: (): string => 'changed' }\nexport type ShopMessage = string\n",
  'src/actors/shop/shop.ts': "import { spawn } from '../runtime/actor.js'\nimport { ActorError } from '../errors.js'\nimport { shopMessages } from './messages.js'\nexport const shop = [spawn, ActorError, shopMessages]\n",
  'src/edges/table.ts': "import { shopMessages } from '../actors/shop/messages.js'\nexport const table = shopMessages\n",
  'src/daemon/trace.ts': "import type { ShopMessage } from '../actors/shop/messages.js'\nimport { table } from '../edges/table.js'\nexport const trace = (m: ShopMessage): unknown => [m, table]\n",
  // the command line loads the composition root only when a command runs
  'src/cli/main.ts': "import type { wiring } from '../daemon/wiring.js'\nexport const main = async (): Promise<typeof wiring> => (await import('../daemon/wiring.js')).wiring\n",
  'sim/run.ts': "import { plant } from '../src/actors/plant.js'\nimport { simLine } from '../src/hypervisor/sim/index.js'\nimport type { Clock } from '../src/interface/index.js'\nexport const run = (c: Clock): unknown => [plant(c, () => 0), simLine(c)]\n"
}

test('a tree that keeps the layers passes the check', async (t) => {
  await withTree(clean, async (dir) => {
    t.deepEqual(await violations(dir), [])
    const { code, stdout } = await cruise(dir, 'err-long')
    t.is(code, 0, stdout)
  })
})
