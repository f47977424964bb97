/**
 * Frames of the agent protocol 2 (docs/guest-agent.md): a 20-byte header, then the payload.
 * Header: "VMPA", type (1 byte), 3 zero bytes, the request id (8 bytes, chosen by the host),
 * payload length (4 bytes, big-endian).
 */
export const FRAME_MAGIC = Buffer.from('VMPA', 'ascii')
export const HEADER_BYTES = 20
/** the agent refuses requests above this (its buffer) */
export const MAX_REQUEST_BYTES = 4 * 1024 * 1024
/** the agent's frames carry at most 256 KiB; a header that says more is not one of its frames */
export const MAX_AGENT_PAYLOAD = 256 * 1024

export const FrameType = {
  ping: 1,
  run: 2,
  setMac: 3,
  pong: 17,
  stdout: 18,
  stderr: 19,
  exit: 20
} as const

const AGENT_TYPES = new Set<number>([FrameType.pong, FrameType.stdout, FrameType.stderr, FrameType.exit])

/** A header the agent could have written: one of its types and a payload it could have sent. */
export function isAgentHeader (header: FrameHeader): boolean {
  return AGENT_TYPES.has(header.type) && header.length <= MAX_AGENT_PAYLOAD
}

export interface FrameHeader { type: number, id: Buffer, length: number }

export function encodeFrame (type: number, id: Buffer, payload: Buffer = Buffer.alloc(0)): Buffer {
  const header = Buffer.alloc(HEADER_BYTES)
  FRAME_MAGIC.copy(header, 0)
  header[4] = type
  id.copy(header, 8, 0, 8)
  header.writeUInt32BE(payload.length, 16)
  return Buffer.concat([header, payload])
}

/** Reads a header at the start of `bytes`; undefined when the magic or the zero bytes are not there. */
export function decodeHeader (bytes: Buffer): FrameHeader | undefined {
  if (bytes.length < HEADER_BYTES || !bytes.subarray(0, 4).equals(FRAME_MAGIC) || bytes[5] !== 0 || bytes[6] !== 0 || bytes[7] !== 0) return undefined
  return { type: bytes[4] as number, id: Buffer.from(bytes.subarray(8, 16)), length: bytes.readUInt32BE(16) }
}

/** RUN payload: the timeout in ms (4 bytes), then the script. */
export function runPayload (timeoutMs: number, script: Buffer): Buffer {
  const head = Buffer.alloc(4)
  head.writeUInt32BE(Math.min(0xffffffff, Math.max(1, Math.ceil(timeoutMs))))
  return Buffer.concat([head, script])
}

/** SETMAC payload: the 6 bytes of the MAC, then the interface name. */
export function setMacPayload (ifname: string, mac: string): Buffer {
  const bytes = mac.split(':').map((h) => Number.parseInt(h, 16))
  if (bytes.length !== 6 || bytes.some((b) => !Number.isInteger(b) || b < 0 || b > 255)) throw new RangeError(`"${mac}" is not a MAC address`)
  if (!/^[A-Za-z0-9_.-]{1,15}$/.test(ifname)) throw new RangeError(`"${ifname}" is not an interface name`)
  return Buffer.concat([Buffer.from(bytes), Buffer.from(ifname)])
}
