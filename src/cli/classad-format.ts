import type { Classad } from '../net/wire.js'

function quote (value: string): string {
  return `"${value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`
}

function attributeName (id: string): string {
  return id.replace(/[^A-Za-z0-9_]/g, '_')
}

/** The classad in HTCondor's ClassAd syntax: `[ VMID = "..."; Memory = 64; ... ]`. */
export function formatClassad (ad: Classad): string {
  const attrs: Array<[string, string | number]> = [
    ['VMID', ad.vmid], ['Plant', ad.plant], ['Domain', ad.domain], ['Owner', ad.owner], ['State', ad.state],
    ['Memory', ad.memoryMB], ['OpSys', ad.os], ['Arch', ad.arch], ['ProductionLine', ad.line], ['GoldenImage', ad.goldenImage],
    ['Network', ad.network.name], ['NetworkIndex', ad.network.index], ['Cost', ad.cost], ['CreatedAt', ad.createdAt],
    ['BiddingMs', ad.timings.biddingMs], ['CloningMs', ad.timings.cloningMs], ['ConfiguringMs', ad.timings.configuringMs], ['TotalMs', ad.timings.totalMs],
    ['ClonedActions', ad.actions.cloned.join(',')], ['RunActions', ad.actions.run.join(',')]
  ]
  for (const [key, value] of Object.entries(ad.attributes)) attrs.push([key, value])
  if (ad.recovered.length > 0) attrs.push(['RecoveredErrors', ad.recovered.map((r) => `${r.action}:${r.exitCode}`).join(',')])
  for (const [id, out] of Object.entries(ad.outputs)) {
    const name = attributeName(id)
    attrs.push([`Action_${name}_ExitCode`, out.exitCode], [`Action_${name}_Stdout`, out.stdout], [`Action_${name}_Stderr`, out.stderr])
  }
  const body = attrs.map(([k, v]) => `  ${k} = ${typeof v === 'number' ? String(Math.round(v * 1000) / 1000) : quote(v)};`).join('\n')
  return `[\n${body}\n]`
}
