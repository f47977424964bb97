/**
 * Errors that mean bad input (exit code 2), by name: the classes live in layers (planner, daemon,
 * sim) that a command loads only when it runs, and the program loads none of them, so that
 * `--help` and a client command stay quick. Each class sets `name` to its own (STYLE.md, errors).
 */
const BAD_INPUT = new Set(['UsageError', 'DomainExistsError', 'InvalidSpecError', 'ConfigError', 'ScenarioError', 'ProfileError'])
/** the codes of a shop's or plant's RemoteError that mean the request itself was bad */
const BAD_REQUEST_CODES = new Set(['InvalidSpecError', 'MalformedMessageError'])
/**
 * src/interface/errors.ts's BusyError name and BUSY_PREFIX, written out for the same reason as
 * BAD_INPUT (test/cli/busy-exit.spec.ts checks that they agree with `isBusy`)
 */
export const BUSY_ERROR_NAME = 'BusyError'
export const BUSY_MESSAGE_PREFIX = 'busy: '
/** src/interface/errors.ts's NoBidsError name, written out for the same reason as BAD_INPUT */
export const NO_PLACEMENT_ERROR_NAME = 'NoBidsError'

/**
 * The exit codes: 3 for a request no plant could place (Nomad's `job run` has 2 for placement
 * failures, which is bad input here); sysexits.h's EX_TEMPFAIL for a refusal that a later try may not meet.
 */
export const EXIT_CODES = { ok: 0, failed: 1, badInput: 2, noPlacement: 3, busy: 75 } as const
export type ExitCode = typeof EXIT_CODES[keyof typeof EXIT_CODES]

/** what `vmplant --help` says after the commands */
export const EXIT_CODES_HELP = `
Exit codes:
  0   done
  1   failed (the shop or a node unreachable, a VM that could not be made, any other error)
  2   bad input (a command line, spec, config, profile or scenario that is wrong; a request the shop or plant found bad)
  75  busy: the shop or a plant refused the request at a bound (EX_TEMPFAIL); retry later
  3   no plant could place it: none bid (each declined, none answered, none connected), or each that bid failed to make it`

/**
 * 75 for a busy refusal (a BusyError, a remote error whose code is BusyError, or a message that
 * begins as one does), 2 for bad input (named in BAD_INPUT, or a remote error whose code says the
 * request was bad), 3 for a request no plant could place (a NoBidsError, here or from the shop),
 * else 1.
 */
export function exitCodeOf (err: unknown): ExitCode {
  const { name, code, message } = (err ?? {}) as { name?: unknown, code?: unknown, message?: unknown }
  if (name === BUSY_ERROR_NAME || code === BUSY_ERROR_NAME || (typeof message === 'string' && message.startsWith(BUSY_MESSAGE_PREFIX))) return EXIT_CODES.busy
  if (typeof name === 'string' && BAD_INPUT.has(name)) return EXIT_CODES.badInput
  if (name === 'RemoteError' && typeof code === 'string' && BAD_REQUEST_CODES.has(code)) return EXIT_CODES.badInput
  if (name === NO_PLACEMENT_ERROR_NAME || (name === 'RemoteError' && code === NO_PLACEMENT_ERROR_NAME)) return EXIT_CODES.noPlacement
  return EXIT_CODES.failed
}
