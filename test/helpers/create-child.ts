/**
 * A client for namespace tests that makes many VMs in one process (a `vmplant create` per VM would
 * start a libp2p node each time): run inside the client's namespace with
 * argv JSON {shop, domain, spec, count, via?, deadlineMs?}. With `via`, the first create is
 * retried (its VM destroyed) until an offer came through that broker, i.e. until the shop knows
 * that site. With `plants` (a site's plants) as well, two probe VMs of two domains of their own are made
 * and destroyed first, until they land on two different plants of that list through `via`:
 * then the site's broker has every plant's load report, so none of its plants is left out of its
 * pricing (a plant's first report can be lost while the gossipsub mesh forms; the next comes
 * with its heartbeat). Prints one JSON line per VM ({"event":"created",plant,cost,via,network}), then
 * {"event":"done"}, and exits; an error is printed as {"event":"error",message} with exit code 1.
 */
import { generateKeyPair } from '@libp2p/crypto/keys'
import { VmplantClient } from '../../src/cli/client.js'
import type { CreateResult } from '../../src/interface/messages.js'

const args = JSON.parse(process.argv[2] ?? '{}') as { shop: string, domain: string, spec: unknown, count: number, via?: string, plants?: string[], deadlineMs?: number }
const print = (event: Record<string, unknown>): void => { process.stdout.write(JSON.stringify(event) + '\n') }
const client = new VmplantClient({ shop: args.shop, privateKey: await generateKeyPair('Ed25519') })

const report = (result: CreateResult): void => {
  const chosen = result.bidding.offers.find((o) => o.plant === result.classad.plant)
  print({ event: 'created', plant: result.classad.plant, cost: result.classad.cost, via: chosen?.via, network: result.classad.network.name, offers: result.bidding.offers.length })
}

try {
  await client.start()
  const until = Date.now() + (args.deadlineMs ?? 30_000)
  for (let probe = 0; args.plants !== undefined; probe++) {
    if (Date.now() > until) throw new Error(`the broker ${args.via ?? ''} did not price both plants ${args.plants.join(', ')} in ${args.deadlineMs ?? 30_000} ms`)
    const made: CreateResult[] = []
    try {
      // the same two domains each time (a domain whose VMs are gone has no network left), since
      // the client sends a credential for every domain it holds, at most 64
      for (const side of ['a', 'b']) made.push(await client.create(args.spec, `probe-${side}-${args.domain}`))
    } catch {
      // the shop may know no bidder yet
      await new Promise((resolve) => setTimeout(resolve, 200))
    }
    for (const result of made) await client.destroy(result.classad.vmid)
    const landed = new Set(made.filter((r) => r.bidding.offers.some((o) => o.plant === r.classad.plant && o.via === args.via)).map((r) => r.classad.plant))
    if (args.plants.every((p) => landed.has(p))) {
      print({ event: 'probed', tries: probe + 1 })
      break
    }
  }
  let first: CreateResult | undefined
  while (first === undefined) {
    try {
      const result = await client.create(args.spec, args.domain)
      if (args.via === undefined || result.bidding.offers.some((o) => o.via === args.via)) first = result
      else await client.destroy(result.classad.vmid)
    } catch (err) {
      // the shop may know no bidder yet; the same pause as helpers/processes.ts `eventually`
      if (Date.now() > until) throw err
      await new Promise((resolve) => setTimeout(resolve, 200))
    }
    if (first === undefined && Date.now() > until) throw new Error(`no offer came through broker ${args.via ?? ''} in ${args.deadlineMs ?? 30_000} ms`)
  }
  report(first)
  for (let i = 1; i < args.count; i++) report(await client.create(args.spec, args.domain))
  print({ event: 'done' })
  await client.stop()
  process.exit(0)
} catch (err) {
  print({ event: 'error', message: err instanceof Error ? err.message : String(err) })
  await client.stop().catch(() => {})
  process.exit(1)
}
