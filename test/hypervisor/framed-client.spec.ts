/**
 * The host side of the framed agent protocol against a scripted agent on a unix socket (no VM):
 * getting in step after stale bytes, skipping other requests' frames, output kept byte for byte.
 * The real agent is exercised in qemu-agent.spec.ts.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { createServer, type Server, type Socket } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import test from 'ava'
import { connectFramedAgent, GuestAgentError } from '../../src/hypervisor/guest/index.js'
import { decodeHeader, encodeFrame, FrameType, HEADER_BYTES } from '../../src/hypervisor/guest/frames.js'

const dir = mkdtempSync(join(tmpdir(), 'vmplant-framed-'))
const servers: Server[] = []

test.after.always(() => {
  for (const server of servers) server.close()
  rmSync(dir, { recursive: true, force: true })
})

/** An agent that answers each request with what `answer` returns for its header, and records the payloads. */
async function fakeAgent (name: string, answer: (type: number, id: Buffer, payload: Buffer) => Buffer): Promise<string> {
  const path = join(dir, name)
  const server = createServer((socket: Socket) => {
    let buffer = Buffer.alloc(0)
    socket.on('data', (chunk: Buffer) => {
      buffer = Buffer.concat([buffer, chunk])
      for (;;) {
        const header = decodeHeader(buffer)
        if (header === undefined || buffer.length < HEADER_BYTES + header.length) return
        const payload = buffer.subarray(HEADER_BYTES, HEADER_BYTES + header.length)
        buffer = buffer.subarray(HEADER_BYTES + header.length)
        socket.write(answer(header.type, header.id, payload))
      }
    })
  })
  servers.push(server)
  await new Promise<void>((resolve) => { server.listen(path, resolve) })
  return path
}

function exitPayload (code: number, timedOut: boolean): Buffer {
  const body = Buffer.alloc(5)
  body.writeInt32BE(code)
  body[4] = timedOut ? 1 : 0
  return body
}

test('the client finds its answer after stale bytes, skips frames of other requests, and keeps output byte for byte', async (t) => {
  const binary = Buffer.from([0, 10, 13, 255, ...Buffer.from('VMPA'), 17, 19])
  // the id of a request of a host that has gone
  const stale = Buffer.from('0123456789abcdef', 'hex')
  const scripts: string[] = []
  const path = await fakeAgent('a.sock', (type, id, payload) => {
    if (type === FrameType.ping) return Buffer.concat([Buffer.from('half a frame VMPA\x12'), encodeFrame(FrameType.pong, id, Buffer.from([0, 0, 0, 2]))])
    scripts.push(payload.subarray(4).toString())
    return Buffer.concat([
      // the rest of an answer a host before us gave up on, then a whole frame of it
      Buffer.from('VMPA'), encodeFrame(FrameType.stdout, stale, Buffer.from('not yours')),
      encodeFrame(FrameType.stdout, id, binary.subarray(0, 5)),
      encodeFrame(FrameType.stderr, id, Buffer.from('oops\n')),
      encodeFrame(FrameType.stdout, stale, Buffer.from('still not yours')),
      encodeFrame(FrameType.stdout, id, binary.subarray(5)),
      encodeFrame(FrameType.exit, id, exitPayload(3, false))
    ])
  })
  const client = await connectFramedAgent(path)
  try {
    await client.ping({ timeoutMs: 5_000 })
    const result = await client.runBinary({ id: 'x', run: 'echo hi' })
    t.deepEqual(scripts, ['echo hi\n'])
    t.true(result.stdout.equals(binary))
    t.is(result.stderr.toString(), 'oops\n')
    t.is(result.exitCode, 3)
    t.false(result.timedOut)
    // and again on the same connection, now in step
    t.is((await client.run({ id: 'y', run: 'echo again', timeoutMs: 1_000 })).stderr, 'oops\n')
  } finally {
    client.close()
  }
})

test('a reply that is not the protocol fails the request with GuestAgentError, and a silent agent times out', async (t) => {
  const path = await fakeAgent('b.sock', (type, id) => type === FrameType.ping ? Buffer.alloc(0) : encodeFrame(FrameType.pong, id, Buffer.alloc(4)))
  const client = await connectFramedAgent(path)
  try {
    await t.throwsAsync(client.run({ id: 'x', run: 'true' }), { instanceOf: GuestAgentError, message: /unexpected frame of type 17/ })
    await t.throwsAsync(client.ping({ timeoutMs: 200 }), { name: 'GuestAgentTimeoutError' })
  } finally {
    client.close()
  }
})
