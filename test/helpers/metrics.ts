import type { VmplantNode } from '../../src/daemon/vmplant-node.js'

/** GET /metrics over real HTTP: sample name with its labels (as exposed) → value */
export async function scrape (node: VmplantNode): Promise<Map<string, number>> {
  const response = await fetch(`http://${node.metricsAddress as string}/metrics`, { signal: AbortSignal.timeout(10_000) })
  if (response.status !== 200) throw new Error(`GET /metrics answered ${response.status}`)
  const samples = new Map<string, number>()
  for (const line of (await response.text()).split('\n')) {
    if (line.startsWith('#') || line.trim() === '') continue
    const at = line.lastIndexOf(' ')
    samples.set(line.slice(0, at), Number(line.slice(at + 1)))
  }
  return samples
}

export function sample (samples: Map<string, number>, name: string): number {
  const value = samples.get(name)
  if (value === undefined) throw new Error(`no sample ${name} in: ${[...samples.keys()].filter((k) => k.startsWith('vmplant_')).join(', ')}`)
  return value
}
