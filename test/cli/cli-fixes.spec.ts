import test from 'ava'
import { readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { bash, vmplantWith } from '../helpers/cli.js'
import { sharedFederation } from '../helpers/federation.js'
import { VMPLANT_BIN } from '../helpers/processes.js'
import { loadOrCreateKey } from '../../src/net/keys.js'
import { DomainFolder } from '../../src/cli/domain-folder.js'
import { domainFolderOf } from '../../src/cli/identity.js'
import { EXIT_CODES } from '../../src/cli/exit-codes.js'
import { packageRoot } from '../../src/paths.js'

/** one plant with 512 MB for VMs, so that a spec asking for more is one no plant can place */
const shared = sharedFederation({ plants: 1, plant: { memoryMB: 512 } })
const spec = join(packageRoot, 'config', 'demo-spec.yaml')
const vmplant = `${JSON.stringify(process.execPath)} ${JSON.stringify(VMPLANT_BIN)}`
/** a shop's address of the right form whose peer is not there */
const NOWHERE = '/ip4/127.0.0.1/tcp/1/p2p/12D3KooWGRUVh7GBFHqHgJhBa3vKNJzuBhtVxX3DeCqLQxK1xJo3'

test('vmplant --version prints package.json\'s version and exits 0', async (t) => {
  const { version } = JSON.parse(await readFile(join(packageRoot, 'package.json'), 'utf8'))
  for (const flag of ['--version', '-V']) {
    const run = await vmplantWith({}, flag)
    t.is(run.code, 0, run.err)
    t.is(run.out, version)
  }
})

test('--spec - reads the spec from standard input', async (t) => {
  const key = join(shared.dir, 'stdin.key')
  const created = await vmplantWith({ input: await readFile(spec, 'utf8') }, 'create', '--shop', shared.federation.shopAddr, '--spec', '-', '--key', key, '--json')
  t.is(created.code, 0, created.err)
  const { classad } = JSON.parse(created.out)
  t.is(classad.memoryMB, 128)
  t.deepEqual(classad.actions.run, ['network', 'user'])
})

test('every problem of a spec is reported at once, each with its line and column, also from standard input', async (t) => {
  const text = 'hardware:\n  memoryMB: 8\n  os: linux\n  colour: red\nactions:\n  - id: a\n    run: 5\n    when: now\n'
  const run = await vmplantWith({ input: text }, 'create', '--shop', NOWHERE, '--spec', '-')
  t.is(run.code, EXIT_CODES.badInput)
  t.deepEqual(run.err.split('\n'), [
    'vmplant: standard input: hardware.memoryMB: must be at least 16 (line 2, column 13)',
    'vmplant: standard input: hardware: unknown field "colour" (line 4, column 3)',
    'vmplant: standard input: actions[0].run: expected string (line 7, column 10)',
    'vmplant: standard input: actions[0]: unknown field "when" (line 8, column 5)'
  ])
  // a problem found after the schema's (here, a dangling `after`) has its position too
  const dangling = await vmplantWith({ input: 'hardware: { memoryMB: 64, os: linux }\nactions:\n  - id: a\n    run: "true"\n    after: [ghost]\n' }, 'plan', '--spec', '-', '--warehouse', shared.dir)
  t.is(dangling.code, EXIT_CODES.badInput)
  t.is(dangling.err, 'vmplant: standard input: actions[0].after[0]: "ghost" is not the id of any action (line 5, column 13)')
})

test('every problem of a node config is reported at once, each with its line and column', async (t) => {
  const file = join(shared.dir, 'four-mistakes.yaml')
  await writeFile(file, 'roles: [chef]\ndataDir: x\nlisten: [not-an-address]\ncolour: red\nshop:\n  bidWindowMs: -5\n')
  const run = await vmplantWith({}, 'node', '--check-config', file)
  t.is(run.code, EXIT_CODES.badInput)
  const lines = run.err.split('\n')
  t.is(lines.length, 4, run.err)
  t.regex(lines.find((l) => l.includes('roles[0]')) ?? '', /: roles\[0\]: .* \(line 1, column 9\)$/)
  t.regex(lines.find((l) => l.includes('listen[0]')) ?? '', /: listen\[0\]: is not a multiaddr.* \(line 3, column 10\)$/)
  t.regex(lines.find((l) => l.includes('colour')) ?? '', /: unknown field\(s\) colour \(line 4, column 1\)$/)
  t.regex(lines.find((l) => l.includes('bidWindowMs')) ?? '', /: shop\.bidWindowMs: .* \(line 6, column 16\)$/)
  for (const line of lines) t.true(line.startsWith(`vmplant: ${file}: `), line)
})

test('a malformed --shop exits 2 naming where it came from and the form it takes', async (t) => {
  const flag = await vmplantWith({}, 'list', '--shop', '127.0.0.1:4001')
  t.is(flag.code, EXIT_CODES.badInput)
  t.regex(flag.err, /^vmplant: --shop "127\.0\.0\.1:4001" is not a multiaddr: give the shop's address as \/ip4\/HOST\/tcp\/PORT\/p2p\/PEERID/)
  const env = await vmplantWith({ env: { VMPLANT_SHOP: '/ip4/127.0.0.1/tcp/4001' } }, 'create', '--spec', spec)
  t.is(env.code, EXIT_CODES.badInput)
  t.regex(env.err, /^vmplant: VMPLANT_SHOP "\/ip4\/127\.0\.0\.1\/tcp\/4001" has no \/p2p\/PEERID: give the shop's address as \/ip4\/HOST\/tcp\/PORT\/p2p\/PEERID$/)
})

test('a create no plant can place exits 3, and the help says so', async (t) => {
  const text = 'hardware: { memoryMB: 4096, os: linux }\nactions: []\n'
  const run = await vmplantWith({ input: text }, 'create', '--shop', shared.federation.shopAddr, '--spec', '-', '--key', join(shared.dir, 'big.key'))
  t.is(run.code, EXIT_CODES.noPlacement, run.err)
  t.is(EXIT_CODES.noPlacement, 3)
  t.regex(run.err, /vmplant: no plant bid for request \S+; declined: /)
  const help = await vmplantWith({}, '--help')
  t.regex(help.out, /\n {2}3 {3}no plant could place it/)
})

test('a closed pipe ends the output quietly: `domain list | head -1` exits 0 with nothing on stderr', async (t) => {
  // more lines than a pipe holds, so that the writer meets the closed pipe whatever the timing
  const key = join(shared.dir, 'many', 'client.key')
  const privateKey = await loadOrCreateKey(key)
  const folder = new DomainFolder(domainFolderOf(key, peerIdFromPrivateKey(privateKey).toString()), privateKey)
  for (let i = 0; i < 1200; i++) await folder.create(`many-${i}`)
  const run = await bash(`${vmplant} domain list --key ${JSON.stringify(key)} 2>"$ERR" | head -1; echo "\${PIPESTATUS[0]}" >&2; cat "$ERR" >&2`, { ERR: join(shared.dir, 'list.err') })
  t.regex(run.out, /^client 12D3Koo\w+$/)
  t.is(run.err, '0', 'exit code 0, and nothing else on stderr')
})

test('a create piped into `head -3` keeps its outcome: exit 0, no stack trace, and the VM is there', async (t) => {
  // output bigger than a pipe holds (each action echoes 30 kB): the JSON after the first lines meets the closed pipe
  const line = 'x'.repeat(1000)
  const actions = ['a', 'b', 'c'].map((id) => `  - id: ${id}\n    run: |\n${Array.from({ length: 30 }, () => `      echo ${line}`).join('\n')}\n`).join('')
  const specFile = join(shared.dir, 'loud.yaml')
  await writeFile(specFile, `hardware: { memoryMB: 64, os: linux }\nactions:\n${actions}`)
  const key = join(shared.dir, 'piped.key')
  const run = await bash(`${vmplant} create --shop ${shared.federation.shopAddr} --spec ${JSON.stringify(specFile)} --key ${JSON.stringify(key)} 2>"$ERR" | head -3; echo "\${PIPESTATUS[0]}" >&2`, { ERR: join(shared.dir, 'create.err') })
  t.is(run.err, '0', 'the create exited 0')
  const vmid = /^created (\S+)$/m.exec(run.out)?.[1]
  t.truthy(vmid, run.out)
  const stderr = await readFile(join(shared.dir, 'create.err'), 'utf8')
  t.notRegex(stderr, /EPIPE|Error|\n\s+at /, 'no error and no stack trace on stderr')
  const queried = await vmplantWith({}, 'query', '--shop', shared.federation.shopAddr, '--key', key, vmid as string)
  t.is(queried.code, 0, queried.err)
  t.is(JSON.parse(queried.out).state, 'running')
})
