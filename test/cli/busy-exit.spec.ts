import test from 'ava'
import { join } from 'node:path'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { startEmbeddedFederation } from '../../src/daemon/embedded.js'
import { VmplantClient } from '../../src/cli/client.js'
import { BUSY_ERROR_NAME, BUSY_MESSAGE_PREFIX, EXIT_CODES, exitCodeOf } from '../../src/cli/main.js'
import { BusyError, BUSY_PREFIX, isBusy } from '../../src/interface/errors.js'
import { RemoteError } from '../../src/net/errors.js'
import { tempDir } from '../helpers/temp.js'
import { vmplantProcess } from '../helpers/cli.js'

const vmplant = vmplantProcess

test('a busy refusal maps to 75 however it arrives; main names BusyError and its prefix as the interface does', (t) => {
  t.is(BUSY_ERROR_NAME, BusyError.name)
  t.is(BUSY_MESSAGE_PREFIX, BUSY_PREFIX)
  t.is(EXIT_CODES.busy, 75)
  const local = new BusyError('the shop has 3 creates in flight')
  const remote = new RemoteError(BusyError.name, local.message)
  t.true(isBusy(local) && isBusy(remote))
  t.is(exitCodeOf(local), 75)
  t.is(exitCodeOf(remote), 75)
  // a refusal passed on by a peer that kept the message but not the code
  t.is(exitCodeOf(new Error(`${BUSY_PREFIX}every plant that bid is busy; retry later`)), 75)
  t.is(exitCodeOf(new RemoteError('ProductionError', 'the clone failed')), 1)
  t.is(exitCodeOf(new Error('a message that mentions busy: later on')), 1)
})

test('vmplant --help states the exit codes', async (t) => {
  const { code, out } = await vmplant('--help')
  t.is(code, 0)
  t.regex(out, /Exit codes:\n\s+0\s+done\n\s+1\s+failed.*\n\s+2\s+bad input.*\n\s+75\s+busy.*retry later/)
})

test('a create the shop refuses at its bound (shop.maxPendingCreates) exits with 75 and says it is busy', async (t) => {
  t.timeout(120_000)
  const dir = await tempDir()
  t.teardown(async () => { await dir.remove() })
  let firstInFlight!: () => void
  const inFlight = new Promise<void>((resolve) => { firstInFlight = resolve })
  // one create at a time, and a clone that takes a minute: the first create holds the shop's one place
  const federation = await startEmbeddedFederation({
    plants: 1,
    dataDir: join(dir.path, 'federation'),
    shop: { maxPendingCreates: 1 },
    plant: { driver: { kind: 'sim', cloneMs: 60_000, resumeMs: 0, actionMs: 0, goldenMs: 0 } },
    shopTrace: (_actor, message) => { if (message.type === 'client.create') firstInFlight() }
  })
  t.teardown(async () => { await federation.stop() })
  await federation.ready()

  const holder = new VmplantClient({ shop: federation.shopAddr, privateKey: await generateKeyPair('Ed25519') })
  await holder.start()
  t.teardown(async () => { await holder.stop() })
  const giveUp = new AbortController()
  const first = holder.create({ hardware: { memoryMB: 64, os: 'linux' }, actions: [] }, 'holder', { signal: giveUp.signal })
  first.catch(() => {})
  t.teardown(async () => {
    giveUp.abort()
    await first.catch(() => {})
  })
  await inFlight

  const spec = await dir.write('spec.json', JSON.stringify({ hardware: { memoryMB: 64, os: 'linux' }, actions: [] }))
  const refused = await vmplant('create', '--shop', federation.shopAddr, '--spec', spec, '--key', join(dir.path, 'client.key'))
  t.is(refused.code, 75, refused.err)
  t.regex(refused.err, /vmplant: busy: the shop has 1 creates in flight, its limit \(shop\.maxPendingCreates\); retry later/)
  t.is(refused.out, '')
})
