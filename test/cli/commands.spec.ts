import test from 'ava'
import { join } from 'node:path'
import { runCli } from '../helpers/cli.js'
import { sharedFederation } from '../helpers/federation.js'
import { packageRoot } from '../../src/paths.js'

const shared = sharedFederation({ plants: 2 })

const run = runCli

const spec = join(packageRoot, 'config', 'demo-spec.yaml')

test('create, query, list and destroy through the command line, with the key made on first use', async (t) => {
  const key = join(shared.dir, 'me.key')
  const created = await run('create', '--shop', shared.federation.shopAddr, '--spec', spec, '--domain', 'lab', '--key', key, '--json')
  t.is(created.code, 0, created.err)
  const { classad, bidding } = JSON.parse(created.out)
  t.is(classad.domain, 'lab')
  t.is(bidding.offers.length, 2)
  t.deepEqual(classad.actions.run, ['network', 'user'])
  t.is(classad.outputs.user.stdout, 'user=griduser\n')
  // off a terminal, the client's steps are plain lines on stderr, each ended with its time
  t.regex(created.err, /vmplant: connecting to the shop \/ip4\/127\.0\.0\.1\/\S+\.\.\.\nvmplant: connecting to the shop \S+: connected in \d+ ms \(\d+\.\d s\)\nvmplant: shop: bidding: calling 2 bidder\(s\)[^\n]*\.\.\.\n/)
  t.regex(created.err, new RegExp(`vmplant: plant ${classad.plant.slice(-8)}: order: at cost ${classad.cost}: delivered ${classad.vmid.split('.')[0]} \\(\\d+\\.\\d s\\)$`))

  const queried = await run('query', '--shop', shared.federation.shopAddr, '--key', key, classad.vmid, '--classad')
  t.is(queried.code, 0, queried.err)
  t.regex(queried.out, new RegExp(`^\\[\\n  VMID = "${classad.vmid}";`))
  t.regex(queried.out, /Memory = 128;/)
  t.regex(queried.out, /Action_network_Stdout = "ip=10\.10\.0\.2\\nnetmask=255\.255\.255\.0\\n";/)

  const listed = await run('list', '--shop', shared.federation.shopAddr, '--key', key)
  t.is(listed.code, 0)
  t.regex(listed.out, new RegExp(`${classad.vmid}\\s+running\\s+128 MB\\s+lab`))

  const stranger = await run('destroy', '--shop', shared.federation.shopAddr, '--key', join(shared.dir, 'other.key'), classad.vmid)
  t.is(stranger.code, 1)
  t.regex(stranger.err, /domain credential refused \(missing\)/, 'a client with no credential for the VM\'s domain cannot destroy it')

  const destroyed = await run('destroy', '--shop', shared.federation.shopAddr, '--key', key, classad.vmid)
  t.is(destroyed.code, 0)
  t.is(destroyed.out, `destroyed ${classad.vmid}`)
  t.regex((await run('list', '--shop', shared.federation.shopAddr, '--key', key)).out, /^no VMs$/)
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
  // issue 24: a malformed --shop is bad input (2), named with the form it takes
  t.is(shop.code, 2)
  t.regex(shop.err, /multiaddr/i)
})

test('demo creates a VM, then a second one cloned from the golden image learned from the first, explains both and destroys them', async (t) => {
  const demo = await run('demo', '--plants', '2', '--driver', 'sim')
  t.is(demo.code, 0, demo.err)
  t.regex(demo.out, /won with cost 50 \(a tie, broken at random\)/)
  t.regex(demo.out, /action user \(exit 0\): user=griduser/)
  const first = /created (vm-\S+)\n[\s\S]*?golden image (\S+): built for this VM; cloned actions: none; ran: network, user/.exec(demo.out)
  t.truthy(first, demo.out)
  const learned = /learned golden image (\S+) \(actions network, user\)/.exec(demo.out)?.[1]
  t.truthy(learned, 'the plant learned the first request\'s actions as an image')
  t.not(learned, first?.[2])
  // the plan, read from the plant before the second create: the learned image, and the first VM's base image as the other admissible one
  t.true(demo.out.includes(`image   ${learned}\n    cloned  network, user\n    run     motd\n      ${first?.[2]}  admissible, saves 0`), demo.out)
  const second = /4\. create a second VM[\s\S]*?created (vm-\S+)\n[\s\S]*?won with cost 4: [^\n]*golden image saves 2, 1 to run/.exec(demo.out)
  t.truthy(second, 'the plant that holds the image and the domain\'s network wins the second VM')
  t.not(second?.[1], first?.[1])
  t.true(demo.out.includes(`partial match: cloned ${learned} (the image learned from the first VM), saved 2 action(s): network, user; ran 1: motd`), demo.out)
  t.true(demo.out.includes(`5. destroy ${first?.[1]} and ${second?.[1]}`))
  t.regex(demo.out, /destroyed both; the client now holds 0 VM\(s\)/)
  t.regex(demo.out, /\n {2}first VM +\d+(\.\d)? m?s {2}plant \S+ \(cost 50\) built golden image \S+, cloned it, ran 2 action\(s\)\n {2}second VM +\d+(\.\d)? m?s {2}plant \S+ \(cost 4\) cloned \S+, saved 2 action\(s\), ran 1\n/)
})
