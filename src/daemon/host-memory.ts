import { readFileSync } from 'node:fs'
import { freemem } from 'node:os'

/**
 * Memory the host can give without swapping, in MB: MemAvailable from /proc/meminfo (free plus
 * reclaimable cache), which `os.freemem()` underestimates on a host full of page cache.
 */
export function availableMemoryMB (): number {
  // a plant prices every call against it: a burst of calls reads the file once per interval
  const now = performance.now()
  if (cached !== undefined && now - cached.at < CACHE_MS) return cached.mb
  cached = { mb: readAvailableMB(), at: now }
  return cached.mb
}

/** how long a reading stands: memory moves with VMs made, and a VM takes far longer than this */
const CACHE_MS = 250
let cached: { mb: number, at: number } | undefined

function readAvailableMB (): number {
  try {
    const match = /^MemAvailable:\s+(\d+) kB/m.exec(readFileSync('/proc/meminfo', 'utf8'))
    if (match !== null) return Math.floor(Number(match[1]) / 1024)
  } catch {}
  return Math.floor(freemem() / 1024 / 1024)
}
