import test from 'ava'
import { execFile } from 'node:child_process'
import { stat } from 'node:fs/promises'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { startEmbeddedFederation, type EmbeddedFederation } from '../../src/daemon/embedded.js'
import { bundleIsFresh } from '../../src/cli/bundled.js'
import { tempDir } from '../helpers/temp.js'
import { root, runTraced, writeTracer } from './module-trace.js'

const BUNDLE = 'dist/src/cli/actions/client-actions.bundle.cjs'

let dir: Awaited<ReturnType<typeof tempDir>>
let tracer: string
let federation: Promise<EmbeddedFederation> | undefined
test.before(async () => {
  dir = await tempDir()
  tracer = await writeTracer(dir.path)
})
test.after.always(async () => {
  await (await federation?.catch(() => undefined))?.stop()
  await dir?.remove()
})

/** what a full node loads and the command line's help must not: libp2p, zod, level, yaml, and our layers below the cli */
const HEAVY = /^(node_modules\/(libp2p|@libp2p\/[^/]+|zod|level|classic-level|yaml|prom-client)\/|dist\/(sim\/|src\/(net|daemon|planner|actors|hypervisor|store|interface)\/))/

test('--help, of the program and of every command, loads commander and the command files only', async (t) => {
  for (const argv of [['--help'], ['create', '--help'], ['query', '--help'], ['node', '--help'], ['demo', '--help'], ['sim', '--help'], ['domain', 'grant', '--help'], ['image', 'list', '--help'], ['status', '--help']]) {
    const run = await runTraced(tracer, argv)
    t.is(run.code, 0, run.err)
    t.regex(run.out, /Usage: vmplant/)
    t.true(run.loaded.includes('dist/src/cli/main.js'), 'the tracer sees the modules the process loads')
    t.deepEqual(run.loaded.filter((file) => HEAVY.test(file)), [], `vmplant ${argv.join(' ')} loaded a heavy module`)
  }
})

test('a bad option is reported without loading the implementation', async (t) => {
  const run = await runTraced(tracer, ['create', '--spec', 'x.yaml'])
  t.is(run.code, 2)
  t.regex(run.err, /required option '--shop <multiaddr>' not specified/)
  t.deepEqual(run.loaded.filter((file) => HEAVY.test(file)), [])
})

/** the shop, a VM in the client's domain, and the client's key; one federation for the tests that run at once */
async function withVm (name: string): Promise<{ shop: string, key: string, vmid: string }> {
  federation ??= startEmbeddedFederation({ plants: 1 }).then(async (f) => { await f.ready(); return f })
  const { shopAddr } = await federation
  const key = join(dir.path, `${name}.key`)
  const created = await runTraced(tracer, ['create', '--shop', shopAddr, '--spec', join(root, 'config', 'demo-spec.yaml'), '--key', key, '--json'])
  if (created.code !== 0) throw new Error(created.err)
  return { shop: shopAddr, key, vmid: JSON.parse(created.out).classad.vmid }
}

test('query runs a light libp2p node: TCP, noise and yamux, no identify, ping, gossipsub or DHT, and no store', async (t) => {
  const { shop, key, vmid } = await withVm('light')
  const run = await runTraced(tracer, ['query', '--shop', shop, '--key', key, vmid], { VMPLANT_NO_BUNDLE: '1' })
  t.is(run.code, 0, run.err)
  t.is(JSON.parse(run.out).vmid, vmid)
  const packages = new Set(run.loaded.map((file) => /^node_modules\/((@[^/]+\/)?[^/]+)\//.exec(file)?.[1]).filter((p) => p !== undefined))
  for (const needed of ['libp2p', '@libp2p/tcp', '@libp2p/noise', '@libp2p/yamux']) t.true(packages.has(needed), `query loads ${needed}`)
  // (@libp2p/pnet is loaded with the federation's options, and used only with --psk)
  for (const unneeded of ['@libp2p/identify', '@libp2p/ping', '@libp2p/gossipsub', '@libp2p/kad-dht', 'level', 'classic-level']) t.false(packages.has(unneeded), `query loads ${unneeded}`)
  t.false(run.loaded.some((file) => file.startsWith('dist/src/daemon/') || file === 'dist/src/net/node.js'), 'no full node, no daemon')
})

test('with a fresh bundle, a client command loads one file for libp2p and the client, with a code cache, and answers the same', async (t) => {
  if (!bundleIsFresh(BUNDLE)) await promisify(execFile)(process.execPath, [join(root, 'scripts', 'bundle-cli.mjs')], { cwd: root })
  t.true(bundleIsFresh(BUNDLE), 'scripts/bundle-cli.mjs made a bundle that matches its inputs')
  const { shop, key, vmid } = await withVm('bundled')
  const cache = join(root, `${BUNDLE}.v8cache`)
  const bundled = await runTraced(tracer, ['query', '--shop', shop, '--key', key, vmid])
  t.is(bundled.code, 0, bundled.err)
  // the bundle is CommonJS, run through node:vm: the ES module loader sees none of what is in it
  t.true(bundled.loaded.includes('dist/src/cli/bundled.js'))
  t.false(bundled.loaded.some((file) => file.startsWith('node_modules/libp2p/') || file.startsWith('node_modules/zod/') || file.startsWith('dist/src/net/')), 'libp2p, zod and the client come from the bundle')
  // the first run after a build leaves V8's code cache; a run that finds it fitting keeps it
  const made = (await stat(cache)).mtimeMs
  const again = await runTraced(tracer, ['query', '--shop', shop, '--key', key, vmid])
  t.is(again.code, 0, again.err)
  t.is((await stat(cache)).mtimeMs, made, 'the code cache was taken, not made again')
  const modules = await runTraced(tracer, ['query', '--shop', shop, '--key', key, vmid], { VMPLANT_NO_BUNDLE: '1' })
  t.is(modules.code, 0, modules.err)
  t.true(modules.loaded.some((file) => file.startsWith('node_modules/libp2p/')))
  t.deepEqual(JSON.parse(bundled.out), JSON.parse(modules.out))
  t.deepEqual(JSON.parse(again.out), JSON.parse(modules.out))
})
