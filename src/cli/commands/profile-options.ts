import { Option, type Command } from 'commander'
import { profileFile } from '../identity.js'
import { PROFILE_ENV, PROFILE_KEYS, type ProfileKey } from '../profile-keys.js'

/**
 * An option the environment (PROFILE_ENV) and the profile may give: a flag wins over its
 * environment variable (commander's `env`), which wins over the profile, which wins over the
 * command's own default. `needed`: the command cannot run without it (commander's required
 * options are checked before the profile is read, so these are checked by applyProfile).
 */
export class ProfileOption extends Option {
  constructor (flags: string, description: string, readonly profileKey: ProfileKey, readonly needed = false) {
    super(flags, `${description} (profile: ${profileKey})`)
    const env = PROFILE_ENV[profileKey]
    if (env !== undefined) this.env(env)
  }
}

/** what `vmplant --help` says after the exit codes */
export function profileHelp (): string {
  const env = Object.entries(PROFILE_ENV).map(([key, name]) => `${name} for --${key}`).join(', ')
  return `
Defaults: a flag wins over its environment variable (${env}),
which wins over the profile, which wins over the built-in default. The profile is
${profileFile()} ($VMPLANT_HOME/config.yaml when VMPLANT_HOME is set):
a YAML map of ${PROFILE_KEYS.join(', ')}; file names in it are taken from its folder.`
}

/**
 * Fills the action's profile options that neither a flag nor the environment gave from the
 * profile, then checks the needed ones. The profile is read only when some option lacks a value.
 */
export async function applyProfile (command: Command): Promise<void> {
  const options = command.options.filter((o): o is ProfileOption => o instanceof ProfileOption)
  const unset = options.filter((o) => ['default', undefined].includes(command.getOptionValueSource(o.attributeName())))
  if (unset.length > 0) {
    const { readProfile } = await import('../profile.js')
    const profile = await readProfile(profileFile())
    for (const option of unset) {
      const value = profile[option.profileKey]
      if (value !== undefined) command.setOptionValueWithSource(option.attributeName(), value, 'config')
    }
  }
  for (const option of options) {
    if (!option.needed || command.getOptionValue(option.attributeName()) !== undefined) continue
    const env = PROFILE_ENV[option.profileKey]
    command.error(`error: required option '${option.flags}' not specified (give ${option.long ?? option.flags}${env !== undefined ? `, set ${env}` : ''} or put ${option.profileKey}: in ${profileFile()})`, { code: 'commander.missingMandatoryOptionValue' })
  }
}

/** Where an option's value came from, for a message about it: `--shop`, `VMPLANT_SHOP`, or `FILE: shop`. */
export function originOf (command: Command, option: ProfileKey): string {
  const source = command.getOptionValueSource(option)
  if (source === 'env') return PROFILE_ENV[option] ?? `--${option}`
  if (source === 'config') return `${profileFile()}: ${option}`
  return `--${option}`
}
