import test from 'ava'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { startEmbeddedFederation, type EmbeddedFederation } from '../../src/daemon/embedded.js'
import { VmplantClient } from '../../src/cli/client.js'
import type { Message } from '../../src/actors/runtime/index.js'
import type { ShopMessage } from '../../src/actors/shop/messages.js'

const spec = { hardware: { memoryMB: 64, os: 'linux' }, actions: [{ id: 'hello', run: 'echo hello' }] }

test('with 20 plants every bid arrives, and a plant killed between its bid and the order is replaced by the next best', async (t) => {
  let victim: string | undefined
  let federation: EmbeddedFederation | undefined
  let killed: Promise<void> | undefined
  const trace = (_actor: string, message: Message): void => {
    const m = message as ShopMessage
    if (victim === undefined || killed !== undefined || m.type !== 'bid.answer' || m.answer.type !== 'bid.offer' || m.answer.plant.peer !== victim) return
    // the bid has reached the shop; the plant dies before the shop can order from it
    killed = federation?.plants.find((p) => p.peerId === victim)?.abort()
  }
  federation = await startEmbeddedFederation({ plants: 20, shop: { bidWindowMs: 10_000 }, plant: { memoryMB: 8192 }, shopTrace: trace })
  const client = new VmplantClient({ shop: federation.shopAddr, privateKey: await generateKeyPair('Ed25519') })
  t.teardown(async () => {
    await client.stop()
    await killed
    await federation?.stop()
  })
  await federation.ready()
  await client.start()

  const first = await client.create(spec, 'grid')
  t.is(first.bidding.expected, 20)
  t.is(first.bidding.answered, 20)
  t.is(first.bidding.offers.length, 20)
  t.true(first.bidding.tie)

  // the plant that holds the domain's network now bids 4 against 50: it will win, and then die
  victim = first.classad.plant
  const second = await client.create(spec, 'grid')
  t.truthy(killed, 'the winning plant was killed after it bid')
  t.is(second.bidding.offers[0]?.plant, victim)
  t.is(second.bidding.offers[0]?.cost, 4)
  t.is(second.bidding.attempts.length, 2)
  t.is(second.bidding.attempts[0]?.plant, victim)
  t.truthy(second.bidding.attempts[0]?.error)
  t.not(second.classad.plant, victim)
  t.is(second.classad.cost, 50)
  t.is((await client.query(second.classad.vmid)).state, 'running')
})
