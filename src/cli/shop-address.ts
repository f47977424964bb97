import { multiaddr, type Multiaddr } from '@multiformats/multiaddr'
import { errorMessage } from '../interface/errors.js'
import { UsageError } from './errors.js'

/** the form a shop's (or a node's) address takes */
export const NODE_ADDRESS_FORM = '/ip4/HOST/tcp/PORT/p2p/PEERID'

/**
 * A shop's address, checked before anything is dialled: a multiaddr with the shop's peer id.
 * Else a UsageError naming where it came from (`from`: `--shop`, `VMPLANT_SHOP` or the profile)
 * and the form it takes.
 */
export function shopAddress (value: string, from = '--shop'): Multiaddr {
  let addr: Multiaddr
  try {
    addr = multiaddr(value)
  } catch (err: unknown) {
    throw new UsageError(`${from} "${value}" is not a multiaddr: give the shop's address as ${NODE_ADDRESS_FORM} (${errorMessage(err)})`)
  }
  if (!addr.getComponents().some((c) => c.name === 'p2p')) throw new UsageError(`${from} "${value}" has no /p2p/PEERID: give the shop's address as ${NODE_ADDRESS_FORM}`)
  return addr
}
