/** The errors that cross layers: thrown by one, named by the client's message, checked by class in tests. */

/**
 * The refusals a peer's answer may carry as a code, which the receiving edge turns back into the
 * named error (`wireError`): callers test the class or `code`, never the message's text. Each code
 * is its error's name, as the answer frames have always carried it.
 */
export const WIRE_ERROR_CODES = {
  busy: 'BusyError',
  notFound: 'VmNotFoundError',
  refused: 'OrderRefusedError',
  expired: 'OrderExpiredError'
} as const
export type WireErrorCode = typeof WIRE_ERROR_CODES[keyof typeof WIRE_ERROR_CODES]
export const WIRE_ERROR_CODE_LIST = Object.values(WIRE_ERROR_CODES) as [WireErrorCode, ...WireErrorCode[]]

/** No such VM: on a production line, or for this client (a VM that is not theirs looks the same on purpose). */
export class VmNotFoundError extends Error {
  static override name = 'VmNotFoundError'
  readonly code = WIRE_ERROR_CODES.notFound
  constructor (vmid: string, options?: ErrorOptions) {
    super(`VM ${vmid} not found`, options)
    this.name = VmNotFoundError.name
  }

  /** the error as a peer sent it: its message as it was */
  static fromWire (message: string): VmNotFoundError {
    return Object.assign(new VmNotFoundError(''), { message })
  }
}

/** No plant offered, or every plant that offered failed. */
export class NoBidsError extends Error {
  static override name = 'NoBidsError'
  constructor (message: string, options?: ErrorOptions) {
    super(message, options)
    this.name = NoBidsError.name
  }
}

/** A plant that bid will not take the order after all (its capacity changed, the order is not authentic). */
export class OrderRefusedError extends Error {
  static override name = 'OrderRefusedError'
  readonly code = WIRE_ERROR_CODES.refused
  constructor (message: string, options?: ErrorOptions) {
    super(message, options)
    this.name = OrderRefusedError.name
  }
}

export class ProductionFailedError extends Error {
  static override name = 'ProductionFailedError'
  constructor (message: string, options?: ErrorOptions) {
    super(message, options)
    this.name = ProductionFailedError.name
  }
}

/** The order's agreed time ran out, or the shop cancelled it; the VM was destroyed. */
export class OrderExpiredError extends Error {
  static override name = 'OrderExpiredError'
  readonly code = WIRE_ERROR_CODES.expired
  constructor (message: string, options?: ErrorOptions) {
    super(message, options)
    this.name = OrderExpiredError.name
  }
}

export class ImageNotFoundError extends Error {
  static override name = 'ImageNotFoundError'
  constructor (id: string) {
    super(`no golden image ${id} in this warehouse`)
    this.name = ImageNotFoundError.name
  }
}

/**
 * A node at its bound (the shop's creates in flight, the plant's orders in production, a peer's
 * requests on one connection) refuses at once rather than queueing without bound. The message
 * says which bound, and that the request may be retried later; nothing was started.
 */
export class BusyError extends Error {
  static override name = 'BusyError'
  readonly code = WIRE_ERROR_CODES.busy
  constructor (what: string, options?: ErrorOptions) {
    super(`${BUSY_PREFIX}${what}; retry later`, options)
    this.name = BusyError.name
  }

  /** the error as a peer sent it: its message as it was */
  static fromWire (message: string): BusyError {
    return Object.assign(new BusyError(''), { message })
  }
}

/** How a busy refusal's message, and a busy plant's decline reason, begin. */
export const BUSY_PREFIX = 'busy: '

/** True for a BusyError, or the same refusal from another peer (an error whose wire `code` says busy). */
export function isBusy (err: unknown): boolean {
  if (err instanceof BusyError) return true
  const e = err as { name?: unknown, code?: unknown } | undefined
  return e?.name === BusyError.name || e?.code === WIRE_ERROR_CODES.busy
}

/** A production line failed to do what it was asked. */
export class ProductionError extends Error {
  static override name = 'ProductionError'
  constructor (message: string, options?: ErrorOptions) {
    super(message, options)
    this.name = ProductionError.name
  }
}

export class UnsupportedHardwareError extends Error {
  static override name = 'UnsupportedHardwareError'
  constructor (message: string, options?: ErrorOptions) {
    super(message, options)
    this.name = UnsupportedHardwareError.name
  }
}

/** A signature that does not verify, or a message whose signer is not its sender. */
export class AuthError extends Error {
  static override name = 'AuthError'
  constructor (message: string, options?: ErrorOptions) {
    super(message, options)
    this.name = AuthError.name
  }
}

/** The requester's deadline passed before the answer came. */
export class DeadlineExceededError extends Error {
  static override name = 'DeadlineExceededError'
  constructor (message = 'no reply before the deadline', options?: ErrorOptions) {
    super(message, options)
    this.name = DeadlineExceededError.name
  }
}

/** Why a domain credential was refused. */
export type DomainCredentialProblem = 'missing' | 'bad-signature' | 'other-client' | 'expired' | 'domain-mismatch'

/** A request for a domain whose credential does not verify; `problem` names why. */
export class DomainCredentialError extends AuthError {
  static override name = 'DomainCredentialError'
  readonly problem: DomainCredentialProblem
  constructor (problem: DomainCredentialProblem, message: string, options?: ErrorOptions) {
    super(`domain credential refused (${problem}): ${message}`, options)
    this.name = DomainCredentialError.name
    this.problem = problem
  }
}

/** What a caught value says: an Error's message, or the value itself as text (`catch (err: unknown)`). */
export function errorMessage (err: unknown): string {
  if (err instanceof Error) return err.message
  const message = (err as { message?: unknown } | null | undefined)?.message
  return typeof message === 'string' ? message : String(err)
}

/** A caught value's `code` (a Node system error's 'ENOENT', a RemoteError's name), if it has one as text. */
export function errorCode (err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null | undefined)?.code
  return typeof code === 'string' ? code : undefined
}

/** What a failed child process wrote on stderr (an execFile error carries it), if the caught value has it. */
export function errorStderr (err: unknown): string | undefined {
  const stderr = (err as { stderr?: unknown } | null | undefined)?.stderr
  return stderr === undefined || stderr === null ? undefined : String(stderr)
}

/** The named error a peer's coded answer stands for, with the peer's message; undefined for a code that is none of the contract's. */
export function wireError (code: string, message: string): Error | undefined {
  switch (code) {
    case WIRE_ERROR_CODES.busy: return BusyError.fromWire(message)
    case WIRE_ERROR_CODES.notFound: return VmNotFoundError.fromWire(message)
    case WIRE_ERROR_CODES.refused: return new OrderRefusedError(message)
    case WIRE_ERROR_CODES.expired: return new OrderExpiredError(message)
    default: return undefined
  }
}

/** A command for a role this node does not have (or has not started yet). */
export class RoleNotServedError extends Error {
  static override name = 'RoleNotServedError'
  constructor (role: string, command: string, options?: ErrorOptions) {
    super(`this node has no ${role} to take ${command}`, options)
    this.name = RoleNotServedError.name
  }
}
