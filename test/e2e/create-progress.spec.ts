import test from 'ava'
import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import { join } from 'node:path'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { sharedFederation } from '../helpers/federation.js'
import { VmplantClient, type ClientEvent } from '../../src/cli/client.js'
import type { CreateProgress } from '../../src/interface/index.js'
import { VMPLANT_BIN } from '../helpers/processes.js'
import { packageRoot } from '../../src/paths.js'
import { CREATE_PROGRESS_STEPS } from '../helpers/fixtures-shared.js'

const exec = promisify(execFile)

const shared = sharedFederation({ plants: 2 })

/** a started client whose create steps are collected */
async function watchingClient (t: any): Promise<{ client: VmplantClient, steps: CreateProgress[] }> {
  const steps: CreateProgress[] = []
  const onEvent = (event: ClientEvent): void => { if (event.type === 'progress') steps.push(event.event) }
  const client = new VmplantClient({ shop: shared.federation.shopAddr, privateKey: await generateKeyPair('Ed25519'), onEvent })
  await client.start()
  t.teardown(async () => { await client.stop() })
  return { client, steps }
}

const SPEC = { hardware: { memoryMB: 64, os: 'linux' }, actions: [{ id: 'hello', run: 'echo hello' }, { id: 'world', run: 'echo world', after: ['hello'] }] }

test.serial('a remote create reports its steps: the shop\'s bidding and order, and inside the order the plant\'s golden image, clone and actions, each started and ended, before the VM', async (t) => {
  const { client, steps } = await watchingClient(t)
  const result = await client.create(SPEC, 'progress-a')
  t.teardown(async () => { await client.destroy(result.classad.vmid) })
  const plant = result.classad.plant
  t.deepEqual(steps.map((s) => `${s.plant === undefined ? 'shop' : s.plant === plant ? 'winner' : 'other'} ${s.step} ${s.phase}`), CREATE_PROGRESS_STEPS)
  t.regex(steps[0]?.detail ?? '', /^calling 2 bidder\(s\)/)
  t.regex(steps[1]?.detail ?? '', /^2 offer\(s\), 0 decline\(s\) from 2 of 2 bidder\(s\)/)
  t.is(steps[2]?.detail, `at cost ${result.classad.cost}`)
  t.regex(steps[4]?.detail ?? '', /^(built base image [0-9a-z]{12}; all 2 action\(s\) to run|image [0-9a-z]{12} has 0 of the 2 action\(s\))$/)
  t.is(steps[6]?.detail, `${result.classad.vmid.split('.')[0]} is running`)
  t.is(steps[8]?.detail, 'ran 2 action(s)')
  t.is(steps[9]?.detail, `delivered ${result.classad.vmid.split('.')[0]}`)
})

test.serial('a create whose action fails reports the failed order, and the client gets the error, not a VM', async (t) => {
  const { client, steps } = await watchingClient(t)
  const failing = { hardware: { memoryMB: 64, os: 'linux' }, actions: [{ id: 'broken', run: 'echo no >&2\nexit 3' }] }
  const error = await t.throwsAsync(client.create(failing, 'progress-b'))
  t.regex(error?.message ?? '', /broken/)
  const orders = steps.filter((s) => s.step === 'order')
  t.true(orders.length >= 2, JSON.stringify(steps))
  // every plant that bid was tried in turn, and each failed order says why, in printable text
  for (const done of orders.filter((s) => s.phase === 'done')) t.regex(done.detail, /^failed: .*broken.*exit/)
  t.deepEqual((await client.list()).vms.filter((vm) => vm.domain === 'progress-b'), [])
})

test.serial('vmplant create, run as its own process off a terminal, prints the steps as plain lines on stderr and the VM on stdout', async (t) => {
  const spec = join(packageRoot, 'config', 'demo-spec.yaml')
  const key = join(shared.dir, 'cli', 'client.key')
  const { stdout, stderr } = await exec(process.execPath, [VMPLANT_BIN, 'create', '--shop', shared.federation.shopAddr, '--spec', spec, '--domain', 'progress-c', '--key', key, '--json'], { timeout: 120_000 })
  const result = JSON.parse(stdout)
  const plant = (result.classad.plant as string).slice(-8)
  const lines = stderr.split('\n').filter((l) => l.startsWith('vmplant: ') && / \(\d+\.\d s\)$/.test(l))
  const ended = lines.map((l) => l.replace(/: [^:]*\(\d+\.\d s\)$/, '').replace(/^vmplant: /, ''))
  const expected = [
    /^connecting to the shop /,
    /^shop: bidding: calling 2 bidder\(s\)/,
    new RegExp(`^plant ${plant}: golden image: finding a golden image`),
    new RegExp(`^plant ${plant}: cloning: image [0-9a-z]{12}`),
    new RegExp(`^plant ${plant}: actions: running 2 action\\(s\\)`),
    new RegExp(`^plant ${plant}: order: at cost `)
  ]
  t.is(ended.length, expected.length, stderr)
  expected.forEach((pattern, i) => { t.regex(ended[i] ?? '', pattern, stderr) })
  const exited = await exec(process.execPath, [VMPLANT_BIN, 'destroy', result.classad.vmid, '--shop', shared.federation.shopAddr, '--key', key], { timeout: 60_000 })
  t.regex(exited.stdout, /destroyed/)
})
