/**
 * The guest side of a production line: the image every golden starts from (a Debian kernel and
 * busybox, nothing installed on the host) and the agent that runs actions inside it.
 */
export { ensureGuestImage, cachedGuestImage, defaultCacheDir, GUEST_IMAGE_DEFAULTS, type GuestImage, type GuestImageInit } from './image.js'
export { GuestAgentClient, connectGuestAgent } from './agent-client.js'
export { FramedAgentClient, connectFramedAgent, type BinaryActionResult } from './framed-client.js'
export { AGENT_PORT_NAME, FRAMED_PROTOCOL_VERSION } from './agent-c.js'
export { AGENT_PROTOCOL_VERSION } from './scripts.js'
export * from './errors.js'
