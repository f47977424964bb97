import { peerIdFromString } from '@libp2p/peer-id'
import { LengthPrefixedDecoder } from '@libp2p/utils'
import fc from 'fast-check'
import { z } from 'zod'
import {
  AuthError, DomainCredentialError, answerBidder, bidAnswerSchema, bidCallSchema, classadSchema, clientRequestSchema, createResultSchema,
  listResultSchema, loadReportSchema, orderCancelSchema, orderSchema, vmRequestSchema, warehouseRequestSchema
} from '../../../src/interface/index.js'
import { decodeJson } from '../../../src/net/codec.js'
import { MalformedMessageError, RemoteError } from '../../../src/net/errors.js'
import { DEFAULT_MAX_MESSAGE_BYTES, decodeFrame, decodeResponse } from '../../../src/net/rpc.js'
import { progressListener } from '../../../src/net/protocols/progress.js'
import { createSteps } from '../../../src/cli/actions/client-actions.js'
import { steps } from '../../../src/cli/progress.js'
import { PROTOCOLS } from '../../../src/net/protocols.js'
import { assertSender, verifyAuth, verifyCreate, verifyDomainCredential, verifyDomainCredentials } from '../../../src/net/auth.js'
import { MAX_ANSWER_BYTES, MAX_CALL_BYTES } from '../../../src/net/protocols/bids/index.js'
import { MAX_REPORT_BYTES } from '../../../src/net/protocols/load/index.js'
import { ackSchema } from '../../../src/net/protocols/target.js'
import { IMAGE_WIRE_LIMITS, descriptorAnswerSchema, imageRequestSchema, imagesAnswerSchema } from '../../../src/net/protocols/image/wire.js'
import { readHeader } from '../../../src/net/protocols/image/download.js'
import { credentialAuthorizer } from '../../../src/net/tunnels/vnet/authorize.js'
import { MAX_FRAME_BYTES, MAX_OPEN_BYTES, answerSchema as vnetAnswerSchema, openSchema } from '../../../src/net/tunnels/vnet/wire.js'
import { VnetRefusedError } from '../../../src/net/tunnels/vnet/errors.js'
import { InvalidDescriptorError, InvalidSpecError, validateSpec, verifyDescriptor } from '../../../src/planner/index.js'
import { FuzzFailure, type ErrorRule, type FuzzTarget } from '../harness.js'
import { fixtures, type Fixtures } from '../fixtures.js'
import { frames, type Json } from '../mutate.js'

/**
 * The protocol decoders, each as its edge runs it: the size limit, the JSON, the schema of
 * src/interface/messages.ts, then the edge's own checks (sender binding, the client's signature,
 * the domain credential), with the edge's clock at the fixtures' time.
 */

/** what a clear refusal of each kind says */
const MALFORMED: ErrorRule = { type: MalformedMessageError, clear: /(is malformed( at .+)?: \S.*|of \d+ bytes is over the limit of \d+|is not valid UTF-8 JSON|nests deeper than \d+ levels|header announces .+ not )/s }
const AUTH: ErrorRule = { type: AuthError, clear: /(signature|asks for answers to \S+ but was published by|names (plant )?\S+ but (comes from|was published by)|not a peer id|public key|credential)/ }
const CREDENTIAL: ErrorRule = { type: DomainCredentialError, clear: /credential/ }
const SPEC: ErrorRule = { type: InvalidSpecError, clear: /\S/ }

/** what a terminal acts on (C0 and C1 controls, bidi controls): none may reach the client's terminal */
// eslint-disable-next-line no-control-regex
const TERMINAL_CONTROL = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/

/** the peer a message arrived from, as the noise handshake or gossipsub's signature names it */
function sender (f: Fixtures, role: 'shop' | 'plant' | 'client'): string {
  return f[role]
}

const orderRequestSchema = z.discriminatedUnion('type', [orderSchema, orderCancelSchema])

export async function wireTargets (): Promise<FuzzTarget[]> {
  const f = await fixtures()
  const seeds = (name: string): Json[] => f.seeds[name] as Json[]
  const target = (name: string, limit: number, run: FuzzTarget['run'], errors: ErrorRule[], seedName = name): FuzzTarget => ({ name, inputs: frames(seeds(seedName), limit), run, errors })

  return [
    target('bids-call', MAX_CALL_BYTES, (bytes) => {
      const call = decodeJson(bytes, bidCallSchema, MAX_CALL_BYTES, `call on ${PROTOCOLS.call}`)
      const from = sender(f, 'shop')
      if (call.replyTo.peer !== from) throw new AuthError(`call ${call.requestId} asks for answers to ${call.replyTo.peer} but was published by ${from}`)
    }, [MALFORMED, AUTH]),

    target('bids-answer', MAX_ANSWER_BYTES, (bytes) => {
      const answer = decodeJson(bytes, bidAnswerSchema, MAX_ANSWER_BYTES, `answer on ${PROTOCOLS.bid}`)
      const bidder = answerBidder(answer)
      if (typeof bidder !== 'string' || bidder === '') throw new FuzzFailure(`an answer names no bidder: ${JSON.stringify(answer)}`)
    }, [MALFORMED]),

    target('order', DEFAULT_MAX_MESSAGE_BYTES, async (bytes) => {
      const request = decodeJson(bytes, orderRequestSchema, DEFAULT_MAX_MESSAGE_BYTES, `${PROTOCOLS.order} request`)
      if (request.type === 'order.cancel') return
      assertSender(request.auth.owner, request.owner, `order ${request.requestId}'s signature`)
      const domain = await verifyDomainCredential(request.credential, { peer: request.owner, now: f.now, domain: request.domain })
      await verifyCreate(request.auth, request.spec, request.domain, f.now, domain.key)
      // the plant validates the spec of an order that passed the edge
      validateSpec(request.spec)
    }, [MALFORMED, CREDENTIAL, AUTH, SPEC]),

    target('vm', DEFAULT_MAX_MESSAGE_BYTES, async (bytes) => {
      const request = decodeJson(bytes, vmRequestSchema, DEFAULT_MAX_MESSAGE_BYTES, `${PROTOCOLS.vm} request`)
      const subject = request.type === 'vm.list' ? '' : request.vmid
      await verifyAuth(request.auth, request.type.slice(3), subject, f.now)
      if (request.type !== 'vm.list' || (request.credentials ?? []).length > 0) await verifyDomainCredentials(request.credentials, { peer: request.auth.owner, now: f.now })
    }, [MALFORMED, CREDENTIAL, AUTH]),

    target('client', DEFAULT_MAX_MESSAGE_BYTES, async (bytes) => {
      const request = decodeJson(bytes, clientRequestSchema, DEFAULT_MAX_MESSAGE_BYTES, `${PROTOCOLS.client} request`)
      const client = sender(f, 'client')
      assertSender(request.auth.owner, client, `${request.type} request's signature`)
      if (request.type === 'create') {
        const credential = await verifyDomainCredential(request.credential, { peer: client, now: f.now, domain: request.domain })
        await verifyCreate(request.auth, request.spec, request.domain, f.now, credential.key)
        validateSpec(request.spec)
        return
      }
      await verifyAuth(request.auth, request.type, request.type === 'list' ? '' : request.vmid, f.now)
      if (request.type !== 'list' || (request.credentials ?? []).length > 0) await verifyDomainCredentials(request.credentials, { peer: client, now: f.now })
    }, [MALFORMED, CREDENTIAL, AUTH, SPEC]),

    target('warehouse', DEFAULT_MAX_MESSAGE_BYTES, (bytes) => {
      const request = decodeJson(bytes, warehouseRequestSchema, DEFAULT_MAX_MESSAGE_BYTES, `${PROTOCOLS.warehouse} request`)
      if (request.type === 'warehouse.plan') validateSpec(request.spec)
    }, [MALFORMED, SPEC]),

    target('image-request', IMAGE_WIRE_LIMITS.maxRequestBytes, (bytes) => {
      decodeJson(bytes, imageRequestSchema, IMAGE_WIRE_LIMITS.maxRequestBytes, `${PROTOCOLS.image} request`)
    }, [MALFORMED]),

    // the requester's side of the image protocol: a descriptor answer, an images answer, an artifact header
    target('image-answer', IMAGE_WIRE_LIMITS.maxAnswerBytes, (bytes) => {
      const outcomes = [
        () => { const a = decodeResponse(bytes, descriptorAnswerSchema, IMAGE_WIRE_LIMITS.maxAnswerBytes, PROTOCOLS.image); verifyDescriptor(a.descriptor, f.imageId) },
        () => { for (const image of decodeResponse(bytes, imagesAnswerSchema, IMAGE_WIRE_LIMITS.maxAnswerBytes, PROTOCOLS.image).images) verifyDescriptor(image.descriptor, image.id) },
        () => { readHeader(bytes, f.imageId, 'disk.qcow2', 512, 1024) }
      ]
      refusedByAll(outcomes)
    }, [MALFORMED, { type: RemoteError, clear: /\S/ }, { type: InvalidDescriptorError, clear: /\S/ }]),

    // the caller's side of every rpc: `{ok, value}` or `{ok: false, error}`, then the value's schema
    target('rpc-response', DEFAULT_MAX_MESSAGE_BYTES, (bytes) => {
      refusedByAll([classadSchema, listResultSchema, ackSchema].map((schema) => () => { decodeResponse(bytes, schema, DEFAULT_MAX_MESSAGE_BYTES, PROTOCOLS.vm) }))
    }, [MALFORMED, { type: RemoteError, clear: /\S/ }]),

    // the client's side of a create (and the shop's of an order): progress frames, then the answer;
    // a progress frame the schema takes is shown on the client's terminal, so none may carry a control
    target('create-progress', DEFAULT_MAX_MESSAGE_BYTES, (bytes) => {
      const frame = decodeFrame(bytes, createResultSchema, DEFAULT_MAX_MESSAGE_BYTES, PROTOCOLS.client)
      if (!('progress' in frame)) return
      const shown: string[] = []
      const show = createSteps(steps({ print: (l) => shown.push(l), error: (l) => shown.push(l) }, () => 0), 'a shop')
      progressListener((event) => { show({ type: 'progress', event }) }, 'the fuzzer')(frame.progress)
      show({ type: 'answered', ok: true })
      for (const line of shown) {
        const at = TERMINAL_CONTROL.exec(line)
        if (at !== null) throw new FuzzFailure(`a create's progress would print U+${at[0].codePointAt(0)?.toString(16).padStart(4, '0')} to the terminal: ${JSON.stringify(line).slice(0, 200)}`)
      }
    }, [MALFORMED, { type: RemoteError, clear: /\S/ }]),

    target('load-report', MAX_REPORT_BYTES, (bytes) => {
      const report = decodeJson(bytes, loadReportSchema, MAX_REPORT_BYTES, 'load report')
      const from = f.plant
      if (report.plant !== from) throw new AuthError(`load report names plant ${report.plant} but was published by ${from}`)
    }, [MALFORMED, AUTH]),

    target('vnet-open', MAX_OPEN_BYTES, async (bytes) => {
      const open = decodeJson(bytes, openSchema, MAX_OPEN_BYTES, 'vnet opening')
      const authorize = credentialAuthorizer({ now: () => f.now })
      let domain
      try {
        domain = await authorize(open.credential, peerIdFromString(f.client))
      } catch (err: any) {
        throw new VnetRefusedError(`tunnel for domain ${open.domain} refused: ${err?.message ?? String(err)}`, { cause: err })
      }
      if (domain.name !== open.domain) throw new VnetRefusedError(`tunnel for domain ${open.domain} refused: the credential is for domain ${domain.name}`)
      // only a DomainCredentialError may be behind a refusal
      return undefined
    }, [MALFORMED, { type: VnetRefusedError, clear: /refused: .*(credential|domain)/ }]),

    // the client's side of the tunnel's opening
    target('vnet-answer', MAX_OPEN_BYTES, (bytes) => {
      decodeJson(bytes, vnetAnswerSchema, MAX_OPEN_BYTES, 'vnet answer')
    }, [MALFORMED]),

    framing()
  ]
}

/** Each decoder either accepts or refuses clearly; the input is refused when all refuse (the first error is thrown). */
function refusedByAll (decoders: Array<() => void>): void {
  let first: unknown
  for (const decode of decoders) {
    try {
      decode()
      return
    } catch (err) {
      first ??= err
    }
  }
  throw first
}

/** The refusal of a frame by the length-prefixed decoder, said as rpc and the tunnels say it. */
export class FrameError extends Error {
  static override name = 'FrameError'
  constructor (message: string, options?: ErrorOptions) {
    super(message, options)
    this.name = FrameError.name
  }
}

/**
 * The framing of streams: varint length prefixes, in chunks as the network splits them, into the
 * length-prefixed decoder with the limits of rpc (1 MiB) and of the tunnels' Ethernet frames.
 * Every frame it gives is at most the limit and exactly what was sent; a frame over the limit or
 * a bad prefix is refused before its bytes are buffered.
 */
function framing (): FuzzTarget {
  const frame = fc.oneof(fc.uint8Array({ maxLength: 300 }), fc.integer({ min: 0, max: 3 }).map((n) => new Uint8Array(MAX_FRAME_BYTES - 1 + n)))
  const prefixOf = (n: number): number[] => { const out: number[] = []; let r = n; while (r >= 0x80) { out.push((r & 0x7f) | 0x80); r = Math.floor(r / 128) } out.push(r); return out }
  const wire = fc.record({
    frames: fc.array(frame, { maxLength: 4 }),
    /** a lying prefix: huge, 10 continuation bytes, or none */
    tail: fc.oneof(fc.constant([]), fc.constantFrom([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f], prefixOf(2 ** 40), prefixOf(MAX_FRAME_BYTES + 1), [0x80]), fc.array(fc.nat(255), { maxLength: 12 })),
    cuts: fc.array(fc.nat(), { maxLength: 6 })
  }).map(({ frames: fs, tail, cuts }) => {
    // the first byte says how many cut points follow, each where the input is cut into chunks: kept in the corpus as one buffer
    const parts = [Uint8Array.from([cuts.length, ...cuts.map((c) => c % 256)]), ...fs.flatMap((b) => [Uint8Array.from(prefixOf(b.byteLength)), b]), Uint8Array.from(tail)]
    return new Uint8Array(Buffer.concat(parts))
  })
  return {
    name: 'framing',
    inputs: wire,
    errors: [{ type: FrameError, clear: /(over the limit of \d+|bad length prefix)/ }],
    run: (input) => {
      const cutCount = Math.min(input[0] ?? 0, 6)
      const cuts = [...input.subarray(1, 1 + cutCount)]
      const bytes = input.subarray(1 + cutCount)
      for (const limit of [MAX_FRAME_BYTES, DEFAULT_MAX_MESSAGE_BYTES]) {
        const decoder = new LengthPrefixedDecoder({ maxDataLength: limit, maxBufferSize: limit + 16 + 4 * 1024 * 1024 })
        let at = 0
        const chunks: Uint8Array[] = []
        for (const cut of cuts) { const end = Math.min(bytes.byteLength, at + cut); chunks.push(bytes.subarray(at, end)); at = end }
        chunks.push(bytes.subarray(at))
        try {
          for (const chunk of chunks) {
            for (const out of decoder.decode(chunk)) if (out.byteLength > limit) throw new FuzzFailure(`a frame of ${out.byteLength} bytes passed the limit of ${limit}`)
          }
        } catch (err: any) {
          if (err instanceof FuzzFailure) throw err
          if (err?.name === 'InvalidMessageLengthError' || err?.name === 'InvalidDataLengthError' || err?.name === 'InvalidDataLengthLengthError' || err?.name === 'InvalidParametersError' || err instanceof RangeError) {
            throw new FrameError(`a frame over the limit of ${limit} bytes or a bad length prefix: ${err.message}`, { cause: err })
          }
          throw err
        }
      }
    }
  }
}

