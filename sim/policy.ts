import { COST_MODELS, type CostModelName } from '../src/pricing/index.js'
import { UnknownPolicyError } from './errors.js'

/** How a run places requests: the plants' cost model and how many bidders the shop asks. */
export interface Policy {
  /** its name in tables, folder names and plots */
  name: string
  /** the cost model every plant bids with; absent: each plant's own */
  model?: CostModelName
  /** power of d choices: the shop calls this many bidders at random (sites with a broker, or plants) */
  choices?: number
  /**
   * the baseline of decision quality: the paper's cost with every plant asked, each answering the
   * shop itself (no broker), so no choice is left out or made from a partial view
   */
  exhaustive?: boolean
}

/** what `--policy` takes, for messages */
export const POLICY_NAMES = [...COST_MODELS, 'd-choices', 'choices:<d>', 'exhaustive'] as const

/**
 * A policy by name: a cost model (`paper`, `memory`, `warm`, `random`), `exhaustive`, or power of
 * d choices with the paper's cost, `choices:<d>` (`d-choices` is `choices:2`).
 */
export function parsePolicy (name: string): Policy {
  if ((COST_MODELS as readonly string[]).includes(name)) return { name, model: name as CostModelName }
  if (name === 'exhaustive') return { name, model: 'paper', exhaustive: true }
  if (name === 'd-choices') return { name: 'choices-2', model: 'paper', choices: 2 }
  const choices = /^choices[:-](\d{1,6})$/.exec(name)
  if (choices !== null && Number(choices[1]) >= 1) return { name: `choices-${Number(choices[1])}`, model: 'paper', choices: Number(choices[1]) }
  throw new UnknownPolicyError(name, POLICY_NAMES)
}

/** a cost model's name as the policy of that model alone */
export function asPolicy (policy: CostModelName | Policy): Policy {
  return typeof policy === 'string' ? { name: policy, model: policy } : policy
}
