import { readSwarmKey, type FederationInit } from '../net/federation.js'
import { BID_TOPIC, OFFER_TOPIC, siteOfferTopic, siteTopic } from '../net/protocols.js'
import { siteLoadTopic } from '../net/protocols/load/index.js'
import type { NodeConfig } from './config.js'
import { ConfigError } from './errors.js'
import { errorMessage } from '../interface/index.js'

/** The node's closed federation from its config: the swarm key read from its file, the allowlist. */
export async function federationOf (config: NodeConfig): Promise<FederationInit> {
  const { psk, allow } = config.federation ?? {}
  let key: Uint8Array | undefined
  try {
    if (psk !== undefined) key = await readSwarmKey(psk)
  } catch (err: unknown) {
    throw new ConfigError(`federation.psk: ${errorMessage(err)}`, { cause: err })
  }
  return { ...(key !== undefined ? { psk: key } : {}), ...(allow !== undefined ? { allow } : {}) }
}

/** The gossipsub topics a node scores its peers on: the federation's, and its site's (load at half weight). */
export function scoredTopicsOf (site: string | undefined): { topics: string[], halfWeight: string[] } {
  return {
    topics: [BID_TOPIC, OFFER_TOPIC, ...(site !== undefined ? [siteTopic(site), siteOfferTopic(site)] : [])],
    halfWeight: site !== undefined ? [siteLoadTopic(site)] : []
  }
}
