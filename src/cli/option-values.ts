import { domainSchema } from '../interface/messages.js'
import { UsageError } from './errors.js'

/** A numeric option: a whole number from `min` to `max`, else a UsageError naming the flag. */
export function wholeNumber (value: string, flag: string, min: number, max: number): number {
  const n = Number(value)
  if (!Number.isInteger(n) || n < min || n > max) throw new UsageError(`${flag} must be a whole number from ${min} to ${max}, not "${value}"`)
  return n
}

/** `--domain`, when given, must be a domain name; else a UsageError saying why. */
export function checkDomain (name: string | undefined): void {
  if (name === undefined) return
  const domain = domainSchema.safeParse(name)
  if (!domain.success) throw new UsageError(`--domain "${name}" ${domain.error.issues[0]?.message ?? 'is invalid'}`)
}
