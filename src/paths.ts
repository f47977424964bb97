import { fileURLToPath } from 'node:url'

/** The package's root folder (this file runs from dist/src/). */
export const packageRoot = fileURLToPath(new URL('../../', import.meta.url))
