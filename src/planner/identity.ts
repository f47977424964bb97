import { createHash } from 'node:crypto'
import type { ErrorActionSpec } from './spec.js'

/** A JSON value, the only input `canonicalJson` accepts. */
export type Json = null | boolean | number | string | Json[] | { [key: string]: Json | undefined }

/**
 * JSON with object keys sorted and no white space, so equal values always give equal bytes
 * (and equal hashes). `undefined` object fields are left out, as `JSON.stringify` does.
 */
export function canonicalJson (value: Json): string {
  if (value === null || typeof value !== 'object') {
    if (typeof value === 'number' && !Number.isFinite(value)) throw new TypeError(`cannot hash the number ${value}`)
    return JSON.stringify(value)
  }
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`
  const keys = Object.keys(value).filter((k) => value[k] !== undefined).sort()
  return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson(value[k] as Json)}`).join(',')}}`
}

/** Hex SHA-256 of a string's UTF-8 bytes. */
export function sha256Hex (text: string): string {
  return createHash('sha256').update(text).digest('hex')
}

/** Tags the hashed form so a future change of it cannot collide with today's hashes. */
const ACTION_FORMAT = 'vmplant.action/1'

/**
 * What an action's identity is a hash of: what it does to the VM (its type and its script or
 * host parameters) and how it is described to the plant (timeout, exports). Left out on
 * purpose: the id (a name local to one spec; two specs naming the same step differently still
 * share images), `after` (order is judged by the three matching tests against the request's
 * own DAG, so an image made in a different but compatible order still matches) and `onError`
 * (a golden image only records actions that succeeded, so its error path never ran on it).
 */
export function actionDefinition (action: ErrorActionSpec): Json {
  return {
    format: ACTION_FORMAT,
    type: action.type,
    run: action.type === 'guest' ? action.run : undefined,
    host: action.type === 'host' ? (action.host as Json) : undefined,
    timeoutMs: action.timeoutMs,
    exports: [...action.exports].sort()
  }
}

/** An action's identity: the hex SHA-256 of its canonical definition (see `actionDefinition`). */
export function actionIdentity (action: ErrorActionSpec): string {
  return sha256Hex(canonicalJson(actionDefinition(action)))
}
