export class VmNotFoundError extends Error {
  static override name = 'VmNotFoundError'
  constructor (vmid: string, options?: ErrorOptions) {
    super(`no VM ${vmid} on this production line`, options)
    this.name = VmNotFoundError.name
  }
}

export class ProductionError extends Error {
  static override name = 'ProductionError'
  constructor (message: string, options?: ErrorOptions) {
    super(message, options)
    this.name = ProductionError.name
  }
}

export class UnsupportedHardwareError extends Error {
  static override name = 'UnsupportedHardwareError'
  constructor (message: string, options?: ErrorOptions) {
    super(message, options)
    this.name = UnsupportedHardwareError.name
  }
}
