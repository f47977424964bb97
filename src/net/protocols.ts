/** Wire names. The version is part of every id, so peers of different versions refuse each other cleanly. */
export const PROTOCOLS = {
  /** client <-> shop: create, query, destroy, list */
  client: '/vmplant/client/1.0.0',
  /** plant or broker -> shop (or plant -> broker): an offer or a decline for a call for bids */
  bid: '/vmplant/bid/1.0.0',
  /** shop -> chosen plants or brokers: a call for bids sent to a few bidders only (power of d choices) */
  call: '/vmplant/call/1.0.0',
  /** shop -> plant: produce a VM */
  order: '/vmplant/order/1.0.0',
  /** shop -> plant: query, destroy and list VMs */
  vm: '/vmplant/vm/1.0.0',
  /** anyone -> plant: read the warehouse (list, inspect an image, plan a spec) */
  warehouse: '/vmplant/warehouse/1.0.0',
  /** plant -> plant: a golden image's descriptor, the images under a DHT key, an artifact's bytes */
  image: '/vmplant/image/1.0.0',
  /** operator -> any node: its roles, peers, VMs, networks and images (VMs and networks by id only to its `status.allow`) */
  status: '/vmplant/status/1.0.0'
} as const

/** kad-dht runs under the vmplant prefix so that it forms its own DHT, apart from IPFS's */
export const DHT_PROTOCOL = '/vmplant/kad/1.0.0'

/** gossipsub topic of calls for bids across the federation */
export const BID_TOPIC = '/vmplant/bids/1.0.0'

/** gossipsub topic of offers and declines to shops; a bid travels on the streams gossipsub keeps open */
export const OFFER_TOPIC = '/vmplant/offers/1.0.0'

/** gossipsub topic of calls for bids inside one site, which its broker republishes there */
export function siteTopic (site: string): string {
  return `/vmplant/site/${site}/bids/1.0.0`
}

/** gossipsub topic of a site's plants' offers to their broker */
export function siteOfferTopic (site: string): string {
  return `/vmplant/site/${site}/offers/1.0.0`
}
