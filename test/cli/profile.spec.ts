import test from 'ava'
import { mkdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { vmplantWith } from '../helpers/cli.js'
import { sharedFederation } from '../helpers/federation.js'
import { EXIT_CODES } from '../../src/cli/exit-codes.js'
import { packageRoot } from '../../src/paths.js'

const shared = sharedFederation({ plants: 1 })
/** a shop's address of the right form whose peer is not there */
const NOWHERE = '/ip4/127.0.0.1/tcp/1/p2p/12D3KooWGRUVh7GBFHqHgJhBa3vKNJzuBhtVxX3DeCqLQxK1xJo3'

/** a client folder of its own (VMPLANT_HOME) holding `profile` as config.yaml */
async function home (name: string, profile?: string): Promise<NodeJS.ProcessEnv> {
  const dir = join(shared.dir, name)
  await mkdir(dir, { recursive: true })
  if (profile !== undefined) await writeFile(join(dir, 'config.yaml'), profile)
  return { VMPLANT_HOME: dir, VMPLANT_SHOP: undefined, VMPLANT_PSK: undefined }
}

test('the profile gives --shop, --key and a create\'s --domain; its file names are taken from its folder', async (t) => {
  const env = await home('profiled', `shop: ${shared.federation.shopAddr}\nkey: keys/me.key\ndomain: lab\n`)
  const listed = await vmplantWith({ env }, 'list')
  t.is(listed.code, 0, listed.err)
  t.is(listed.out, 'no VMs')
  const created = await vmplantWith({ env }, 'create', '--spec', join(packageRoot, 'config', 'demo-spec.yaml'), '--json')
  t.is(created.code, 0, created.err)
  t.is(JSON.parse(created.out).classad.domain, 'lab')
  const domains = await vmplantWith({ env }, 'domain', 'list', '--json')
  t.is(domains.code, 0, domains.err)
  t.true(JSON.parse(domains.out).folder.startsWith(join(env.VMPLANT_HOME as string, 'keys', 'domains')), domains.out)
})

test('a flag wins over the environment, which wins over the profile', async (t) => {
  const env = await home('precedence', 'shop: /ip4/127.0.0.1/tcp/4001\nkey: profile.key\n')
  const fromProfile = await vmplantWith({ env }, 'list')
  t.is(fromProfile.code, EXIT_CODES.badInput)
  t.regex(fromProfile.err, new RegExp(`^vmplant: ${env.VMPLANT_HOME as string}/config\\.yaml: shop "/ip4/127\\.0\\.0\\.1/tcp/4001" has no /p2p/PEERID`))
  const fromEnv = await vmplantWith({ env: { ...env, VMPLANT_SHOP: 'env-shop' } }, 'list')
  t.is(fromEnv.code, EXIT_CODES.badInput)
  t.regex(fromEnv.err, /^vmplant: VMPLANT_SHOP "env-shop" is not a multiaddr/)
  const fromFlag = await vmplantWith({ env: { ...env, VMPLANT_SHOP: 'env-shop' } }, 'list', '--shop', shared.federation.shopAddr)
  t.is(fromFlag.code, 0, fromFlag.err)
  const keyFlag = join(shared.dir, 'flag', 'client.key')
  const domains = await vmplantWith({ env }, 'domain', 'list', '--json', '--key', keyFlag)
  t.true(JSON.parse(domains.out).folder.startsWith(join(shared.dir, 'flag', 'domains')), domains.out)
})

test('VMPLANT_PSK gives --psk: a swarm key the client cannot read is named', async (t) => {
  const env = await home('psk')
  const run = await vmplantWith({ env: { ...env, VMPLANT_PSK: join(shared.dir, 'no-such.psk') } }, 'list', '--shop', NOWHERE)
  t.is(run.code, EXIT_CODES.failed)
  t.regex(run.err, /no-such\.psk/)
})

test('a bad profile is an error that names the file and each problem\'s line and column, all at once', async (t) => {
  const env = await home('bad', 'shop: 7\ncolour: red\nkey: [a, b]\n')
  const file = join(env.VMPLANT_HOME as string, 'config.yaml')
  const run = await vmplantWith({ env }, 'list')
  t.is(run.code, EXIT_CODES.badInput)
  t.deepEqual(run.err.split('\n'), [
    `vmplant: ${file}: shop: must be a non-empty string (line 1, column 7)`,
    `vmplant: ${file}: unknown field "colour" (the profile holds shop, psk, key, domain) (line 2, column 1)`,
    `vmplant: ${file}: key: must be a non-empty string (line 3, column 6)`
  ])
  const broken = await vmplantWith({ env: await home('broken', 'shop: [unclosed\n') }, 'list')
  t.is(broken.code, EXIT_CODES.badInput)
  t.regex(broken.err, /config\.yaml is not valid YAML: .* at line 2, column 1$/)
})

test('without a flag, variable or profile, --shop is still required, and --help says where each default comes from', async (t) => {
  const env = await home('empty')
  const run = await vmplantWith({ env }, 'query', 'vm-1')
  t.is(run.code, EXIT_CODES.badInput)
  t.regex(run.err, /required option '--shop <multiaddr>' not specified \(give --shop, set VMPLANT_SHOP or put shop: in .*config\.yaml\)/)
  const help = await vmplantWith({ env }, 'create', '--help')
  t.regex(help.out, /--shop <multiaddr>[\s\S]*\(profile:\s+shop\)\s+\(env:\s+VMPLANT_SHOP\)/)
  t.regex(help.out, /--psk <file>[\s\S]*\(profile:\s+psk\)\s+\(env:\s+VMPLANT_PSK\)/)
  t.regex(help.out, /--key <file>[\s\S]*\(profile:\s+key\)/)
  const top = await vmplantWith({ env }, '--help')
  t.true(top.out.includes(`The profile is\n${env.VMPLANT_HOME as string}/config.yaml`), top.out)
  t.regex(top.out, /a flag wins over its environment variable \(VMPLANT_SHOP for --shop, VMPLANT_PSK for --psk\),\nwhich wins over the profile, which wins over the built-in default/)
})
