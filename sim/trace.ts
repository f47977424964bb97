import { readFileSync } from 'node:fs'
import { validateSpec, InvalidSpecError, type VmSpec } from '../src/planner/index.js'
import { domainSchema, errorMessage } from '../src/interface/index.js'
import { ScenarioError } from './errors.js'

/** One request of a trace. */
export interface TraceRequest {
  atMs: number
  domain: string
  /** index into the scenario's mix, which the trace's own specs are appended to */
  spec: number
  lifetimeMs?: number
}

export interface MixEntry { weight: number, spec: VmSpec, raw: unknown }

const COLUMNS = ['time_ms', 'domain', 'spec', 'memory_mb', 'actions', 'lifetime_ms'] as const
type Column = typeof COLUMNS[number]

/** one line of CSV into fields (RFC 4180 quoting, within the line); undefined when a quote is left open */
function splitLine (line: string): string[] | undefined {
  const fields: string[] = []
  let i = 0
  for (;;) {
    let value = ''
    if (line[i] === '"') {
      i++
      for (;;) {
        if (i >= line.length) return undefined
        if (line[i] === '"') {
          if (line[i + 1] === '"') { value += '"'; i += 2; continue }
          i++
          break
        }
        value += line[i++] as string
      }
      const comma = line.indexOf(',', i)
      value += comma === -1 ? line.slice(i) : line.slice(i, comma)
      i = comma === -1 ? line.length : comma
    } else {
      const comma = line.indexOf(',', i)
      value = comma === -1 ? line.slice(i) : line.slice(i, comma)
      i = comma === -1 ? line.length : comma
    }
    fields.push(value.trim())
    if (i >= line.length) return fields
    i++
  }
}

/** a spec from a trace's memory and actions: the actions, `;`-separated ids, run one after the other */
function specOf (memoryMB: number, actions: string[]): unknown {
  return {
    hardware: { memoryMB, os: 'linux' },
    actions: actions.map((id, k) => ({ id, run: `echo ${id}`, ...(k > 0 ? { after: [actions[k - 1]] } : {}) }))
  }
}

/**
 * Reads a CSV trace of requests: a header naming its columns (`time_ms` and `domain`, then either
 * `spec`, an index into the scenario's mix, or `memory_mb` and `actions`, and optionally
 * `lifetime_ms`), then one request a line. Returns the requests in time order (a stable sort) and
 * the mix with the trace's own specs appended. A bad row gets an error naming the file, the line
 * and the column.
 */
export function readTrace (file: string, mix: MixEntry[]): { requests: TraceRequest[], mix: MixEntry[] } {
  let text: string
  try {
    text = readFileSync(file, 'utf8')
  } catch (err: unknown) {
    throw new ScenarioError(file, '', `cannot be read: ${errorMessage(err)}`, { cause: err })
  }
  const lines = text.split(/\r?\n/)
  const header = splitLine(lines[0] ?? '') ?? []
  const fail = (line: number, column: number | undefined, problem: string): never => {
    const where = column === undefined ? `line ${line}` : `line ${line}, column ${column + 1} (${header[column] ?? '?'})`
    throw new ScenarioError(file, where, problem)
  }
  header.forEach((name, c) => {
    if (!(COLUMNS as readonly string[]).includes(name)) fail(1, c, `unknown column "${name}"; the columns are ${COLUMNS.join(', ')}`)
    if (header.indexOf(name) !== c) fail(1, c, `column "${name}" is named twice`)
  })
  const at = (name: Column): number => header.indexOf(name)
  for (const name of ['time_ms', 'domain'] as const) if (at(name) === -1) fail(1, undefined, `the header names no "${name}" column`)
  const bySpec = at('spec') !== -1
  if (bySpec === (at('memory_mb') !== -1 || at('actions') !== -1)) fail(1, undefined, 'give either a "spec" column (an index into workload.mix) or "memory_mb" and "actions"')
  if (!bySpec && (at('memory_mb') === -1 || at('actions') === -1)) fail(1, undefined, 'give both "memory_mb" and "actions"')

  const specs = [...mix]
  const known = new Map(mix.map((m, k) => [JSON.stringify(m.raw), k]))
  const requests: TraceRequest[] = []
  lines.forEach((text, i) => {
    const line = i + 1
    if (i === 0 || text.trim() === '') return
    const fields = splitLine(text)
    if (fields === undefined) fail(line, undefined, 'a quote is not closed')
    if ((fields as string[]).length !== header.length) fail(line, undefined, `has ${(fields as string[]).length} fields, the header ${header.length}`)
    const get = (name: Column): string => (fields as string[])[at(name)] as string
    const number = (name: Column, what: string, min: number): number => {
      const value = get(name)
      const n = Number(value)
      if (value === '' || !Number.isSafeInteger(n) || n < min) fail(line, at(name), `must be ${what}, not "${value}"`)
      return n
    }
    const atMs = number('time_ms', 'a whole number of ms from 0', 0)
    const domain = domainSchema.safeParse(get('domain'))
    if (!domain.success) fail(line, at('domain'), `"${get('domain')}" is not a domain name: ${domain.error?.issues[0]?.message ?? ''}`)
    let spec: number
    if (bySpec) {
      const range = mix.length === 0 ? 'an index into workload.mix, which is empty' : `an index into workload.mix (0 to ${mix.length - 1})`
      spec = number('spec', range, 0)
      if (spec >= mix.length) fail(line, at('spec'), `must be ${range}, not "${get('spec')}"`)
    } else {
      const memoryMB = number('memory_mb', 'a whole number of MB', 1)
      const actions = get('actions') === '' ? [] : get('actions').split(';').map((a) => a.trim())
      const raw = specOf(memoryMB, actions)
      const key = JSON.stringify(raw)
      const index = known.get(key)
      if (index !== undefined) spec = index
      else {
        try {
          specs.push({ weight: 0, spec: validateSpec(raw), raw })
        } catch (err: unknown) {
          if (!(err instanceof InvalidSpecError)) throw err
          fail(line, at(err.path.startsWith('hardware') ? 'memory_mb' : 'actions'), err.problem)
        }
        spec = specs.length - 1
        known.set(key, spec)
      }
    }
    const lifetime = at('lifetime_ms') === -1 || get('lifetime_ms') === '' ? undefined : number('lifetime_ms', 'a whole number of ms from 1, or empty (lives to the end)', 1)
    requests.push({ atMs, domain: domain.data as string, spec, ...(lifetime !== undefined ? { lifetimeMs: lifetime } : {}) })
  })
  if (requests.length === 0) fail(lines.length, undefined, 'the trace has no requests')
  // a stable sort: requests of the same ms keep the trace's order
  requests.sort((a, b) => a.atMs - b.atMs)
  return { requests, mix: specs }
}
