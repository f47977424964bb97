import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

/** The package's root folder (this file runs from dist/src/). */
export const packageRoot = fileURLToPath(new URL('../../', import.meta.url))

/** package.json's version: what `vmplant --version` prints */
export function packageVersion (): string {
  return (JSON.parse(readFileSync(join(packageRoot, 'package.json'), 'utf8')) as { version: string }).version
}
