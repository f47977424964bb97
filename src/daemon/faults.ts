import type { Logger } from '@libp2p/logger'
import { FAULT_POINTS, type FaultPoint, type Faults } from '../actors/plant/ports.js'
import { ConfigError } from './errors.js'

/**
 * Fault injection for the crash tests, and only for them: with VMPLANT_TEST_FAULT=<point> set, the
 * plant process kills itself with SIGKILL the first time it reaches that point of the create path,
 * as a power cut would. Points: after-bid, after-clone, after-resume, mid-action, before-commit,
 * after-commit (after the record is written, before the reply).
 */
export function faultsFromEnv (log: Logger, env: NodeJS.ProcessEnv = process.env): Faults | undefined {
  const point = env.VMPLANT_TEST_FAULT
  if (point === undefined || point === '') return undefined
  if (!(FAULT_POINTS as readonly string[]).includes(point)) throw new ConfigError(`VMPLANT_TEST_FAULT=${point} is not a fault point; use one of ${FAULT_POINTS.join(', ')}`)
  log.error('fault injection is on: this process kills itself at %s', point)
  return {
    hit (at: FaultPoint) {
      if (at !== point) return
      log.error('fault injection: killing this process at %s', at)
      // a sent answer's bytes still pass the stream muxer, noise and the socket after the send
      // resolved: "after the bid" is a cut once they have left, a turn of the event loop later
      if (at === 'after-bid') setImmediate(() => { process.kill(process.pid, 'SIGKILL') })
      else process.kill(process.pid, 'SIGKILL')
    }
  }
}
