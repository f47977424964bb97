/** The plant refused a tunnel: the credential did not verify, or the plant has no network for the domain. */
export class VnetRefusedError extends Error {
  static override name = 'VnetRefusedError'
  constructor (message: string, options?: ErrorOptions) {
    super(message, options)
    this.name = VnetRefusedError.name
  }
}

/** A tap device or bridge could not be made, found or driven (iproute2 or socat failed). */
export class TapError extends Error {
  static override name = 'TapError'
  constructor (message: string, options?: ErrorOptions) {
    super(message, options)
    this.name = TapError.name
  }
}

/** A frame on the tunnel broke the protocol: over the size limit, or not length-prefixed. */
export class VnetFrameError extends Error {
  static override name = 'VnetFrameError'
  constructor (message: string, options?: ErrorOptions) {
    super(message, options)
    this.name = VnetFrameError.name
  }
}
