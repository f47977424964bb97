import test from 'ava'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { logger } from '@libp2p/logger'
import { z } from 'zod'
import { createNode, type VmplantLibp2p } from '../../src/net/node.js'
import { FrameChannels, serveFrames } from '../../src/net/protocols/bids/channels.js'

const PROTOCOL = '/vmplant-test/frames/1.0.0'
const schema = z.strictObject({ n: z.number().int() })

let receiver: VmplantLibp2p
let sender: VmplantLibp2p
const got: Array<{ n: number, from: string }> = []
const bad: Array<{ from: string, reason: string }> = []

test.before(async () => {
  receiver = await createNode({ privateKey: await generateKeyPair('Ed25519'), listen: ['/ip4/127.0.0.1/tcp/0'] })
  sender = await createNode({ privateKey: await generateKeyPair('Ed25519'), listen: ['/ip4/127.0.0.1/tcp/0'] })
  await serveFrames(receiver, PROTOCOL, schema, 1024, (frame, from) => { got.push({ n: frame.n, from }) }, (from, reason) => { bad.push({ from, reason }) })
  await receiver.start()
  await sender.start()
})
test.after.always(async () => {
  await sender?.stop()
  await receiver?.stop()
})

async function waitFor (done: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 10_000
  while (!done()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
}

const receiverRef = (): { peer: string, addrs: string[] } => ({ peer: receiver.peerId.toString(), addrs: receiver.getMultiaddrs().map((a) => a.toString()) })

test.serial('frames sent at once reach the peer on one stream, in order, each bound to the sender', async (t) => {
  const channels = new FrameChannels(sender, PROTOCOL, logger('test'))
  got.length = 0
  // the peer is dialled by the addresses it gave: the first frame opens the connection and the stream
  await Promise.all(Array.from({ length: 50 }, async (_, n) => { await channels.send(receiverRef(), { n }) }))
  await waitFor(() => got.length === 50, '50 frames')
  t.deepEqual(got.map((g) => g.n), Array.from({ length: 50 }, (_, n) => n))
  t.true(got.every((g) => g.from === sender.peerId.toString()))
  const streams = sender.getConnections(receiver.peerId).flatMap((c) => c.streams).filter((s) => s.protocol === PROTOCOL)
  t.is(streams.length, 1, 'one stream carries them all')
  await channels.close()
})

test.serial('a stream the peer ended is opened again for the next frame; a malformed frame is named and the stream read on', async (t) => {
  const channels = new FrameChannels(sender, PROTOCOL, logger('test'))
  got.length = 0
  await channels.send(receiverRef(), { n: 1 })
  await waitFor(() => got.length === 1, 'the first frame')
  for (const connection of receiver.getConnections(sender.peerId)) {
    for (const stream of connection.streams) if (stream.protocol === PROTOCOL) stream.abort(new Error('the test ends it'))
  }
  await waitFor(() => sender.getConnections(receiver.peerId).flatMap((c) => c.streams).every((s) => s.protocol !== PROTOCOL || s.status !== 'open'), 'the sender to see its stream end')
  await channels.send(receiverRef(), { n: 2 })
  await channels.send(receiverRef(), { n: 'three' })
  await channels.send(receiverRef(), { n: 4 })
  await waitFor(() => got.length === 3, 'the frames after the new stream')
  t.deepEqual(got.map((g) => g.n), [1, 2, 4])
  t.true(bad.some((b) => b.from === sender.peerId.toString() && /malformed at n/.test(b.reason)), JSON.stringify(bad))
  await channels.close()
})
