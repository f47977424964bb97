/**
 * A spec that cannot be used. `path` names the offending field (e.g. `actions[2].after[0]`, or ''
 * for the spec as a whole), `problem` says what is wrong with it, and `file` the spec file it came
 * from, when it came from one. The message names each once: `FILE: PATH: PROBLEM`.
 */
export class InvalidSpecError extends Error {
  static override name = 'InvalidSpecError'
  readonly path: string
  readonly problem: string
  readonly file?: string
  constructor (path: string, problem: string, options: ErrorOptions & { file?: string } = {}) {
    const { file, ...errorOptions } = options
    super([file, path, problem].filter((part) => part !== undefined && part !== '').join(': '), errorOptions)
    this.name = InvalidSpecError.name
    this.path = path
    this.problem = problem
    if (file !== undefined) this.file = file
  }

  /** The same error, said of the spec file it was read from. */
  inFile (file: string): InvalidSpecError {
    return new InvalidSpecError(this.path, this.problem, { file, cause: this })
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
