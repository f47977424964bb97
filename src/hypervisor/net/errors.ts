/** An `ip` command that changes the host's links failed; `detail` is what it said. */
export class HostNetworkError extends Error {
  static override name = 'HostNetworkError'
  constructor (message: string, options?: ErrorOptions) {
    super(message, options)
    this.name = HostNetworkError.name
  }
}

/** A host-network option is wrong; `path` names the field. */
export class InvalidHostNetworksInitError extends Error {
  static override name = 'InvalidHostNetworksInitError'
  constructor (readonly path: string, message: string) {
    super(`host networks: ${path} ${message}`)
    this.name = InvalidHostNetworksInitError.name
  }
}
