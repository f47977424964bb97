/**
 * A scenario that cannot be run. `path` names the offending field (`workload.arrivals.ratePerSec`,
 * or '' for the scenario as a whole); the message says `FILE: PATH: PROBLEM`.
 */
export class ScenarioError extends Error {
  static override name = 'ScenarioError'
  readonly path: string
  constructor (source: string, path: string, problem: string, options: ErrorOptions = {}) {
    super([source, path, problem].filter((part) => part !== '').join(': '), options)
    this.name = ScenarioError.name
    this.path = path
  }
}

/** A `--policy` entry that names no policy. */
export class UnknownPolicyError extends Error {
  static override name = 'UnknownPolicyError'
  constructor (policy: string, known: readonly string[]) {
    super(`"${policy}" is not a policy; choose from ${known.join(', ')}`)
    this.name = UnknownPolicyError.name
  }
}
