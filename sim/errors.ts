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
