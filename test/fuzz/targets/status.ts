import type { ErrorRule, FuzzTarget } from '../harness.js'
import { FuzzFailure } from '../harness.js'
import { decodeJson } from '../../../src/net/codec.js'
import { MalformedMessageError, RemoteError } from '../../../src/net/errors.js'
import { decodeResponse } from '../../../src/net/rpc.js'
import { PROTOCOLS } from '../../../src/net/protocols.js'
import { STATUS_MAX_BYTES, STATUS_REQUEST_MAX_BYTES, countsOnly, nodeStatusSchema, statusRequestSchema } from '../../../src/net/protocols/status/index.js'
import { formatStatus } from '../../../src/cli/commands/status-command.js'
import { fixtures } from '../fixtures.js'
import { frames, type Json } from '../mutate.js'

/**
 * `/vmplant/status/1.0.0`: the node's side (a request, as `serve` decodes it) and the asker's
 * (an answer, as `call` decodes it, then printed by `vmplant status`).
 */

const MALFORMED: ErrorRule = { type: MalformedMessageError, clear: /(is malformed( at .+)?: \S.*|of \d+ bytes is over the limit of \d+|is not valid UTF-8 JSON|nests deeper than \d+ levels)/s }

/**
 * What a terminal would act on: C0 and C1 controls (escape sequences, carriage returns that
 * overwrite a line) and the bidi controls that reorder what is shown. A node's answer is printed
 * to its asker's terminal, so none of it may get there.
 */
// eslint-disable-next-line no-control-regex
const TERMINAL_CONTROL = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/

export async function statusTargets (): Promise<FuzzTarget[]> {
  const f = await fixtures()
  const seeds = (name: string): Json[] => f.seeds[name] as Json[]
  return [
    {
      name: 'status-request',
      inputs: frames(seeds('status-request'), STATUS_REQUEST_MAX_BYTES),
      errors: [MALFORMED],
      run: (bytes) => {
        decodeJson(bytes, statusRequestSchema, STATUS_REQUEST_MAX_BYTES, `${PROTOCOLS.status} request`)
      }
    },
    {
      name: 'status-answer',
      inputs: frames(seeds('status-answer'), STATUS_MAX_BYTES),
      errors: [MALFORMED, { type: RemoteError, clear: /\S/ }],
      run: (bytes) => {
        const status = decodeResponse(bytes, nodeStatusSchema, STATUS_MAX_BYTES, PROTOCOLS.status)
        // what the node's edge gives a stranger of any status it could build: still an answer, with no list by id
        const counts = nodeStatusSchema.safeParse(countsOnly(status))
        if (!counts.success) throw new FuzzFailure(`countsOnly made an answer its own schema refuses: ${counts.error.message.slice(0, 300)}`)
        if (counts.data.peers.list !== undefined || counts.data.plant?.vms.list !== undefined || counts.data.plant?.networks.list !== undefined) throw new FuzzFailure('countsOnly left a list by id in')
        for (const line of formatStatus(status, f.client)) {
          const at = TERMINAL_CONTROL.exec(line)
          if (at !== null) throw new FuzzFailure(`vmplant status would print U+${at[0].codePointAt(0)?.toString(16).padStart(4, '0')} to the terminal: ${JSON.stringify(line).slice(0, 200)}`)
        }
      }
    }
  ]
}
