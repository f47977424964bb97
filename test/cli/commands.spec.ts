import '../../src/polyfill.js'
import test from 'ava'
import { join } from 'node:path'
import { runCli } from '../helpers/cli.js'
import { startEmbeddedFederation, type EmbeddedFederation } from '../../src/daemon/embedded.js'
import { tempDir } from '../helpers/temp.js'
import { packageRoot } from '../../src/paths.js'

let federation: EmbeddedFederation
let dir: Awaited<ReturnType<typeof tempDir>>
test.before(async () => {
  federation = await startEmbeddedFederation({ plants: 2 })
  await federation.ready()
  dir = await tempDir()
})
test.after.always(async () => {
  await federation?.stop()
  await dir?.remove()
})

const run = runCli

const spec = join(packageRoot, 'config', 'demo-spec.yaml')

test('create, query, list and destroy through the command line, with the key made on first use', async (t) => {
  const key = join(dir.path, 'me.key')
  const created = await run('create', '--shop', federation.shopAddr, '--spec', spec, '--domain', 'lab', '--key', key, '--json')
  t.is(created.code, 0, created.err)
  const { classad, bidding } = JSON.parse(created.out)
  t.is(classad.domain, 'lab')
  t.is(bidding.offers.length, 2)
  t.deepEqual(classad.actions.run, ['network', 'user'])
  t.is(classad.outputs.user.stdout, 'user=griduser\n')

  const queried = await run('query', '--shop', federation.shopAddr, '--key', key, classad.vmid, '--classad')
  t.is(queried.code, 0, queried.err)
  t.regex(queried.out, new RegExp(`^\\[\\n  VMID = "${classad.vmid}";`))
  t.regex(queried.out, /Memory = 128;/)
  t.regex(queried.out, /Action_network_Stdout = "ip=10\.10\.0\.2\\nnetmask=255\.255\.255\.0\\n";/)

  const listed = await run('list', '--shop', federation.shopAddr, '--key', key)
  t.is(listed.code, 0)
  t.regex(listed.out, new RegExp(`${classad.vmid}\\s+running\\s+128 MB\\s+lab`))

  const stranger = await run('destroy', '--shop', federation.shopAddr, '--key', join(dir.path, 'other.key'), classad.vmid)
  t.is(stranger.code, 1)
  t.regex(stranger.err, /not found/)

  const destroyed = await run('destroy', '--shop', federation.shopAddr, '--key', key, classad.vmid)
  t.is(destroyed.code, 0)
  t.is(destroyed.out, `destroyed ${classad.vmid}`)
  t.regex((await run('list', '--shop', federation.shopAddr, '--key', key)).out, /^no VMs$/)
})

test('every command has --help that lists its options', async (t) => {
  const top = await run('--help')
  t.is(top.code, 0)
  for (const command of ['node', 'up', 'demo', 'create', 'query', 'destroy', 'list']) {
    t.regex(top.out, new RegExp(`\\n  ${command}\\b`))
    const help = await run(command, '--help')
    t.is(help.code, 0)
    t.regex(help.out, new RegExp(`Usage: vmplant ${command}`))
  }
  t.regex((await run('create', '--help')).out, /--domain <name>/)
  t.regex((await run('node', '--help')).out, /--config <file>/)
})

test('unknown commands and missing options exit with 2 and say what is wrong', async (t) => {
  const unknown = await run('fly')
  t.is(unknown.code, 2)
  t.regex(unknown.err, /unknown command 'fly'/)
  const missing = await run('create', '--spec', spec)
  t.is(missing.code, 2)
  t.regex(missing.err, /required option '--shop <multiaddr>' not specified/)
  const plants = await run('demo', '--plants', 'many')
  t.is(plants.code, 2)
  t.regex(plants.err, /--plants must be a whole number/)
  const shop = await run('list', '--shop', 'not-an-address')
  t.is(shop.code, 1)
  t.regex(shop.err, /multiaddr/i)
})

test('demo creates, shows and destroys a VM and explains the choice', async (t) => {
  const demo = await run('demo', '--plants', '2', '--driver', 'sim')
  t.is(demo.code, 0, demo.err)
  t.regex(demo.out, /won with cost 50 \(a tie, broken at random\)/)
  t.regex(demo.out, /action user \(exit 0\): user=griduser/)
  t.regex(demo.out, /destroyed; the client now holds 0 VM\(s\)/)
})
