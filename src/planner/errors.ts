/** A spec that cannot be used; `path` names the offending field, e.g. `actions[2].after[0]`. */
export class InvalidSpecError extends Error {
  static override name = 'InvalidSpecError'
  readonly path: string
  constructor (path: string, problem: string, options?: ErrorOptions) {
    super(path === '' ? problem : `${path}: ${problem}`, options)
    this.name = InvalidSpecError.name
    this.path = path
  }
}

/** A golden image descriptor (from a peer or the store) that cannot be trusted; `path` names the offending field. */
export class InvalidDescriptorError extends Error {
  static override name = 'InvalidDescriptorError'
  readonly path: string
  constructor (path: string, problem: string, options?: ErrorOptions) {
    super(`golden image descriptor${path === '' ? '' : ` ${path}`}: ${problem}`, options)
    this.name = InvalidDescriptorError.name
    this.path = path
  }
}
