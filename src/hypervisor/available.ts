import { access, constants } from 'node:fs/promises'
import { delimiter, join } from 'node:path'

/** The first `name` on PATH, or undefined. */
export async function findOnPath (name: string): Promise<string | undefined> {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (dir === '') continue
    try {
      await access(join(dir, name), constants.X_OK)
      return join(dir, name)
    } catch {}
  }
  return undefined
}

const NEEDS: Record<string, Array<[string, string]>> = {
  qemu: [['qemu-system-x86_64', 'qemu-system-x86'], ['qemu-img', 'qemu-utils']],
  uml: [['linux.uml', 'user-mode-linux'], ['mke2fs', 'e2fsprogs']],
  sim: []
}

/** Why the production line `kind` cannot run on this host (a missing program and its Debian package), or undefined when it can. */
export async function lineUnavailable (kind: string): Promise<string | undefined> {
  for (const [program, pkg] of NEEDS[kind] ?? []) {
    if (await findOnPath(program) === undefined) return `${program} is not installed (Debian package ${pkg}; bash scripts/setup.sh installs it)`
  }
  return undefined
}
