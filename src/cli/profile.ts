import { readFile } from 'node:fs/promises'
import { homedir } from 'node:os'
import { dirname, isAbsolute, join, resolve } from 'node:path'
import type { PositionedDocument } from '../daemon/yaml-positions.js'
import { ProfileError } from './errors.js'
import { PROFILE_KEYS, type Profile, type ProfileKey } from './profile-keys.js'

/** the profile's keys that name files: relative to the profile's folder, `~/` to the home folder */
const FILE_KEYS = new Set<ProfileKey>(['psk', 'key'])

/**
 * Reads the profile (`config.yaml` in the client's folder, src/cli/identity.ts): a YAML map of
 * `shop`, `psk`, `key` and `domain`, each a string. No file is an empty profile; a file that is
 * not one is a ProfileError that lists every problem, each with its line and column. The YAML
 * parser loads only when there is a file: every client command asks for the profile.
 */
export async function readProfile (file: string): Promise<Profile> {
  let text: string
  try {
    text = await readFile(file, 'utf8')
  } catch (err: unknown) {
    if ((err as { code?: unknown } | undefined)?.code === 'ENOENT') return {}
    throw new ProfileError(`cannot read the profile ${file}: ${err instanceof Error ? err.message : String(err)}`, { cause: err })
  }
  const [{ isMap, isScalar }, { atPosition, parseValuePositioned, yamlErrorText }] = await Promise.all([import('yaml'), import('../daemon/yaml-positions.js')])
  let positioned: PositionedDocument
  try {
    positioned = parseValuePositioned(text).positioned
  } catch (err: unknown) {
    throw new ProfileError(`${file} is not valid YAML: ${yamlErrorText(err)}`, { cause: err })
  }
  const contents = positioned.document.contents
  if (contents === null || (isScalar(contents) && contents.value === null)) return {}
  if (!isMap(contents)) throw new ProfileError(`${file}: must be a map of ${PROFILE_KEYS.join(', ')}${atPosition(positioned.positionOf([]))}`)
  const profile: Profile = {}
  const problems: string[] = []
  for (const pair of contents.items) {
    const key = String(isScalar(pair.key) ? pair.key.value : pair.key)
    if (!(PROFILE_KEYS as readonly string[]).includes(key)) {
      problems.push(`${file}: unknown field "${key}" (the profile holds ${PROFILE_KEYS.join(', ')})${atPosition(positioned.positionOf([], [key]))}`)
      continue
    }
    const value = isScalar(pair.value) ? pair.value.value : undefined
    if (typeof value !== 'string' || value === '') {
      problems.push(`${file}: ${key}: must be a non-empty string${atPosition(positioned.positionOf([key]))}`)
      continue
    }
    profile[key as ProfileKey] = FILE_KEYS.has(key as ProfileKey) ? fromProfileFolder(value, file) : value
  }
  if (problems.length > 0) throw new ProfileError(problems.join('\n'))
  return profile
}

function fromProfileFolder (path: string, file: string): string {
  if (path === '~' || path.startsWith('~/')) return join(homedir(), path.slice(1))
  return isAbsolute(path) ? path : resolve(dirname(file), path)
}
