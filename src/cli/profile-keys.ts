/** The options every client command repeats, which the profile and the environment may give instead. */
export const PROFILE_KEYS = ['shop', 'psk', 'key', 'domain'] as const
export type ProfileKey = typeof PROFILE_KEYS[number]
export type Profile = Partial<Record<ProfileKey, string>>

/** the environment variables that give a profile key, between the flag and the profile */
export const PROFILE_ENV: Partial<Record<ProfileKey, string>> = { shop: 'VMPLANT_SHOP', psk: 'VMPLANT_PSK' }
