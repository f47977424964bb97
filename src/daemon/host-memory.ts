import { readFileSync } from 'node:fs'
import { freemem } from 'node:os'

/**
 * Memory the host can give without swapping, in MB: MemAvailable from /proc/meminfo (free plus
 * reclaimable cache), which `os.freemem()` underestimates on a host full of page cache.
 */
export function availableMemoryMB (): number {
  try {
    const match = /^MemAvailable:\s+(\d+) kB/m.exec(readFileSync('/proc/meminfo', 'utf8'))
    if (match !== null) return Math.floor(Number(match[1]) / 1024)
  } catch {}
  return Math.floor(freemem() / 1024 / 1024)
}
