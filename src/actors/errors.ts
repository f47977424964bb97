/** A client asked about a VM that does not exist, or is not theirs (the two look alike on purpose). */
export class VmNotFoundError extends Error {
  static override name = 'VmNotFoundError'
  constructor (vmid: string) {
    super(`VM ${vmid} not found`)
    this.name = VmNotFoundError.name
  }
}

export class NoBidsError extends Error {
  static override name = 'NoBidsError'
  constructor (message: string) {
    super(message)
    this.name = NoBidsError.name
  }
}

/** A plant that bid will not take the order after all (its capacity changed since). */
export class OrderRefusedError extends Error {
  static override name = 'OrderRefusedError'
  constructor (message: string) {
    super(message)
    this.name = OrderRefusedError.name
  }
}

export class ProductionFailedError extends Error {
  static override name = 'ProductionFailedError'
  constructor (message: string, options?: ErrorOptions) {
    super(message, options)
    this.name = ProductionFailedError.name
  }
}

export class ImageNotFoundError extends Error {
  static override name = 'ImageNotFoundError'
  constructor (id: string) {
    super(`no golden image ${id} in this warehouse`)
    this.name = ImageNotFoundError.name
  }
}
