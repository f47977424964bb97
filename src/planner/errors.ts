/**
 * One thing wrong with a spec: the field as the message names it (`field`, as `path` of the error
 * does) and as keys and indices from the spec's root (`path`), what
 * is wrong (`problem`), and for unknown fields their names (`keys`), so that a reader of the spec's
 * text can point at each.
 */
export interface SpecIssue { field: string, path: PropertyKey[], problem: string, keys?: string[] }

/**
 * A spec that cannot be used. `path` names the offending field (e.g. `actions[2].after[0]`, or ''
 * for the spec as a whole), `problem` says what is wrong with it, and `file` the spec file it came
 * from, when it came from one. The message names each once: `FILE: PATH: PROBLEM`. `issues`: every
 * problem the schema found at once, the first being the one the message names (absent for a
 * problem found by a later check, which finds one at a time).
 */
export class InvalidSpecError extends Error {
  static override name = 'InvalidSpecError'
  readonly path: string
  readonly problem: string
  readonly file?: string
  readonly issues?: SpecIssue[]
  constructor (path: string, problem: string, options: ErrorOptions & { file?: string, issues?: SpecIssue[] } = {}) {
    const { file, issues, ...errorOptions } = options
    super([file, path, problem].filter((part) => part !== undefined && part !== '').join(': '), errorOptions)
    this.name = InvalidSpecError.name
    this.path = path
    this.problem = problem
    if (file !== undefined) this.file = file
    if (issues !== undefined) this.issues = issues
  }

  /** The same error, said of the spec file it was read from. */
  inFile (file: string): InvalidSpecError {
    return new InvalidSpecError(this.path, this.problem, { file, cause: this, ...(this.issues !== undefined ? { issues: this.issues } : {}) })
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
