import test from 'ava'
import { z } from 'zod'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { createLightNode } from '../../src/net/light-node.js'
import { createNode } from '../../src/net/node.js'
import { call, serve, MAX_PROGRESS_FRAMES } from '../../src/net/rpc.js'
import { MalformedMessageError } from '../../src/net/errors.js'
import { progressListener } from '../../src/net/protocols/progress.js'
import type { CreateProgress } from '../../src/interface/index.js'

const PROTOCOL = '/vmplant-test/progress/1.0.0'
const requestSchema = z.strictObject({ frames: z.number().int().min(0).max(20_000), late: z.boolean().optional() })

async function pair (t: any) {
  const server = await createNode({ privateKey: await generateKeyPair('Ed25519'), listen: ['/ip4/127.0.0.1/tcp/0'] })
  const client = await createLightNode({ privateKey: await generateKeyPair('Ed25519') })
  await server.start()
  await client.start()
  t.teardown(async () => { await client.stop(); await server.stop() })
  let lateSend: (() => void) | undefined
  await serve(server, PROTOCOL, requestSchema, async (request, { progress }) => {
    for (let i = 0; i < request.frames; i++) progress({ n: i })
    if (request.late === true) lateSend = () => { progress({ n: -1 }) }
    return { answered: request.frames }
  })
  return { server, client, sendLate: () => lateSend?.() }
}

test('progress frames reach the caller in order, all before the answer; one sent after the answer is dropped', async (t) => {
  const { server, client, sendLate } = await pair(t)
  const seen: unknown[] = []
  const answer = await call(client, server.getMultiaddrs(), PROTOCOL, { frames: 50, late: true }, z.object({ answered: z.number() }), {
    signal: AbortSignal.timeout(30_000), onProgress: (value) => { seen.push(value) }
  })
  t.deepEqual(answer, { answered: 50 })
  t.deepEqual(seen, Array.from({ length: 50 }, (_, n) => ({ n })))
  sendLate()
  // a second request on the same connection is answered as usual: the late frame went nowhere
  t.deepEqual(await call(client, server.getMultiaddrs(), PROTOCOL, { frames: 0 }, z.object({ answered: z.number() }), { signal: AbortSignal.timeout(30_000) }), { answered: 0 })
})

test('a caller without a listener reads the progress frames and gets the answer', async (t) => {
  const { server, client } = await pair(t)
  t.deepEqual(await call(client, server.getMultiaddrs(), PROTOCOL, { frames: 5 }, z.object({ answered: z.number() }), { signal: AbortSignal.timeout(30_000) }), { answered: 5 })
})

test(`a peer sending more than ${MAX_PROGRESS_FRAMES} progress frames is refused with an error that says so`, async (t) => {
  const { server, client } = await pair(t)
  const error = await t.throwsAsync(call(client, server.getMultiaddrs(), PROTOCOL, { frames: MAX_PROGRESS_FRAMES + 1 }, z.object({ answered: z.number() }), { signal: AbortSignal.timeout(60_000) }), { instanceOf: MalformedMessageError })
  t.regex(error?.message ?? '', /more than 10000 progress frames/)
})

test('a create progress frame that is not one (a control character, an unknown step, a stray field) is dropped, the good ones pass', (t) => {
  const seen: CreateProgress[] = []
  const listen = progressListener((event) => { seen.push(event) }, 'a test peer')
  const good = { step: 'clone', phase: 'start', detail: 'image 0123456789ab' }
  for (const bad of [
    { ...good, detail: 'red \u001b[31m text' },
    { ...good, step: 'teleport' },
    { ...good, extra: true },
    { ...good, fraction: 2 },
    'not an object'
  ]) listen(bad)
  listen(good)
  listen({ ...good, phase: 'progress', fraction: 0.5, plant: '12D3KooWEuATbTxWzDfLTU9fgu4VpW5r4XD87WrbKxWp2rJdfZz4' })
  t.deepEqual(seen, [good, { ...good, phase: 'progress', fraction: 0.5, plant: '12D3KooWEuATbTxWzDfLTU9fgu4VpW5r4XD87WrbKxWp2rJdfZz4' }])
})
