import { isHostAction, topologicalOrder, type ActionSpec, type ErrorActionSpec } from '../../planner/index.js'
import { ProductionFailedError, type ActionResult, type Clock, type ProductionLine } from '../../interface/index.js'
import type { Faults } from './ports.js'

const OUTPUT_TAIL_BYTES = 2000

/** An action that failed but whose error sub-graph let the production continue. */
export interface RecoveredError { action: string, exitCode: number, timedOut: boolean, handledBy: string[] }

export interface Configuration {
  /** every action run, by id (error sub-graph actions as `<action>/<id>`) */
  outputs: Record<string, ActionResult>
  /** ids of the main-DAG actions run, in the order they finished */
  run: string[]
  /** `key=value` lines of each action's declared exports */
  attributes: Record<string, string>
  recovered: RecoveredError[]
}

function failed (result: ActionResult): boolean {
  return result.timedOut || result.exitCode !== 0
}

function describeFailure (id: string, result: ActionResult): string {
  const tail = (result.stdout + result.stderr).slice(-OUTPUT_TAIL_BYTES).trim()
  const what = result.timedOut ? 'timed out' : `exited with code ${result.exitCode}`
  return `action "${id}" ${what}${tail !== '' ? `; output ends: ${tail}` : ''}`
}

/** A topological order of `actions`, where predecessors outside the list (cloned ones) count as done. */
function orderWithin (actions: ActionSpec[]): ActionSpec[] {
  const ids = new Set(actions.map((a) => a.id))
  const byId = new Map(actions.map((a) => [a.id, a]))
  return topologicalOrder(actions.map((a) => ({ ...a, after: a.after.filter((id) => ids.has(id)) }))).map((a) => byId.get(a.id) as ActionSpec)
}

/** Declared exports found in an action's stdout as `key=value` lines; the last one wins. */
export function parseExports (stdout: string, keys: string[]): Record<string, string> {
  const wanted = new Set(keys)
  const out: Record<string, string> = {}
  for (const line of stdout.split('\n')) {
    const eq = line.indexOf('=')
    if (eq <= 0) continue
    const key = line.slice(0, eq).trim()
    if (wanted.has(key)) out[key] = line.slice(eq + 1).trim()
  }
  return out
}

async function runOne (line: ProductionLine, clock: Clock, vmid: string, action: ErrorActionSpec, signal: AbortSignal): Promise<ActionResult> {
  if (isHostAction(action)) {
    if (!line.capabilities().hostActions.includes(action.host.attach)) throw new ProductionFailedError(`action "${action.id}": the ${line.kind} production line cannot attach ${action.host.attach}`)
    const started = clock.now()
    await line.hostAction(vmid, action.host, { signal })
    return { exitCode: 0, stdout: '', stderr: '', durationMs: clock.now() - started, timedOut: false }
  }
  return await line.runAction(vmid, { id: action.id, run: action.run, ...(action.timeoutMs !== undefined ? { timeoutMs: action.timeoutMs } : {}) }, { signal })
}

/**
 * Runs the actions still to do on a fresh clone: in a topological order, or independent branches
 * at once when `concurrent`. A failing action runs its error sub-graph and continues or aborts as
 * it says; without one, it fails the production (the paper's implicit error node), naming the
 * action, its exit code and the end of its output.
 */
export async function configure (line: ProductionLine, clock: Clock, vmid: string, actions: ActionSpec[], concurrent: boolean, signal: AbortSignal, faults?: Faults): Promise<Configuration> {
  const config: Configuration = { outputs: {}, run: [], attributes: {}, recovered: [] }
  let first = true

  const runAction = async (action: ActionSpec): Promise<void> => {
    const running = runOne(line, clock, vmid, action, signal)
    if (first) {
      first = false
      faults?.hit('mid-action')
    }
    const result = await running
    config.outputs[action.id] = result
    config.run.push(action.id)
    if (!failed(result)) {
      Object.assign(config.attributes, parseExports(result.stdout, action.exports))
      return
    }
    if (action.onError === undefined) throw new ProductionFailedError(describeFailure(action.id, result))
    const handledBy: string[] = []
    for (const handler of topologicalOrder(action.onError.actions)) {
      const handled = await runOne(line, clock, vmid, handler, signal)
      config.outputs[`${action.id}/${handler.id}`] = handled
      handledBy.push(handler.id)
      if (failed(handled)) throw new ProductionFailedError(`error handler "${handler.id}" of ${describeFailure(action.id, result)} failed too: ${describeFailure(handler.id, handled)}`)
    }
    if (action.onError.then === 'abort') throw new ProductionFailedError(`${describeFailure(action.id, result)} (its error sub-graph ran and asks to abort)`)
    config.recovered.push({ action: action.id, exitCode: result.exitCode, timedOut: result.timedOut, handledBy })
  }

  if (!concurrent) {
    for (const action of orderWithin(actions)) await runAction(action)
    return config
  }
  // each action starts when all of its predecessors among `actions` are done
  const ids = new Set(actions.map((a) => a.id))
  const done = new Map<string, Promise<void>>()
  const start = (action: ActionSpec): Promise<void> => {
    let promise = done.get(action.id)
    if (promise === undefined) {
      const before = action.after.filter((id) => ids.has(id)).map((id) => start(actions.find((a) => a.id === id) as ActionSpec))
      promise = Promise.all(before).then(async () => { signal.throwIfAborted(); await runAction(action) })
      done.set(action.id, promise)
    }
    return promise
  }
  await Promise.all(actions.map(start))
  return config
}
