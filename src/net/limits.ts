/**
 * Requests one connection may have in flight on one protocol before more are answered "busy"
 * (a BusyError frame, at once): a shop's orders to one plant, or one client's creates. A node's
 * `maxRequestsPerConnection` sets it.
 */
export const DEFAULT_MAX_INBOUND_STREAMS = 256

/**
 * What libp2p itself allows per connection and protocol, above every limit `serve` counts: past
 * libp2p's limit a stream is reset, which the caller can only report as a mystery, so `serve`
 * answers "busy" before. yamux resets streams past 1000 on a connection in any case.
 */
export const MAX_STREAMS_PER_CONNECTION = 1000
