import type { Classad } from '../interface/messages.js'

/*
 * HTCondor ClassAd syntax (new ClassAds). Attribute names are case-insensitive and a later
 * attribute silently replaces an earlier one of the same name, so names made from what a spec or
 * a guest says (action ids, exports) must never meet each other or a built-in name, whatever
 * their case, and must never be a reserved word (`error`, `true`, `is`, `undefined`, `parent`...).
 * Built-in names are fixed; every other name has a prefix no built-in has (`Export_`, `Action_`)
 * followed by `classadName()` of the id, an encoding that is one-to-one even after case folding.
 */

/**
 * The built-in attributes, in the order they are printed. Every classad has them but these:
 * `MAC` only for a VM with a NIC on its domain's bridge, `IPAddress` (address/prefix) only when
 * that NIC has an IPv4 address, `RecoveredErrors` only when some action was recovered.
 */
export const CLASSAD_BUILTINS = [
  'VMID', 'Plant', 'Domain', 'Owner', 'State', 'Memory', 'OpSys', 'Arch', 'ProductionLine', 'GoldenImage',
  'Network', 'NetworkIndex', 'MAC', 'IPAddress', 'Cost', 'CreatedAt', 'BiddingMs', 'CloningMs', 'ConfiguringMs', 'TotalMs',
  'ClonedActions', 'RunActions', 'RecoveredErrors'
] as const

/** the suffixes of an action's attributes: `Action_<id>_ExitCode`, `..._Stdout`, `..._Stderr` */
export const ACTION_FIELDS = ['ExitCode', 'Stdout', 'Stderr'] as const

const encoder = new TextEncoder()

/**
 * The bytes of a string's code points in UTF-8. An unpaired surrogate, which only a malformed
 * string has, gets its three-byte (WTF-8) form rather than U+FFFD's, so that no two strings share
 * their bytes.
 */
function codePointBytes (text: string): number[] {
  const bytes: number[] = []
  for (const char of text) {
    const cp = char.codePointAt(0) as number
    if (cp < 0x80) bytes.push(cp)
    else if (cp < 0x800) bytes.push(0xc0 | (cp >> 6), 0x80 | (cp & 0x3f))
    else if (cp < 0x10000) bytes.push(0xe0 | (cp >> 12), 0x80 | ((cp >> 6) & 0x3f), 0x80 | (cp & 0x3f))
    else bytes.push(0xf0 | (cp >> 18), 0x80 | ((cp >> 12) & 0x3f), 0x80 | ((cp >> 6) & 0x3f), 0x80 | (cp & 0x3f))
  }
  return bytes
}

/**
 * An id as the tail of a ClassAd attribute name, one-to-one even though ClassAd names ignore case:
 * lower-case letters, digits and `_` stay, except that an `_` before a digit is written `_137`;
 * any other character, upper-case letters included, becomes `_` and three octal digits per UTF-8
 * byte. So `net.cfg`, `net-cfg`, `net_cfg` and `Net.cfg` give `net_056cfg`, `net_055cfg`,
 * `net_cfg` and `_116et_056cfg`, and a lower-case id such as `network` or `ip_address` stays as
 * it is. Decoding reads `_` and three octal digits as a byte and any other `_` as itself.
 */
export function classadName (id: string): string {
  const bytes = codePointBytes(id)
  let out = ''
  bytes.forEach((byte, i) => {
    const next = bytes[i + 1]
    const digitNext = next !== undefined && next >= 0x30 && next <= 0x39
    if ((byte >= 0x61 && byte <= 0x7a) || (byte >= 0x30 && byte <= 0x39) || (byte === 0x5f && !digitNext)) out += String.fromCharCode(byte)
    else out += '_' + byte.toString(8).padStart(3, '0')
  })
  return out
}

/** C0 and C1 control characters and DEL: printed as escapes, so guest output cannot drive the terminal */
const CONTROL = /[\x00-\x1f\x7f-\x9f]/u
const SHORT_ESCAPES: Record<string, string> = { '\\': '\\\\', '"': '\\"', '\n': '\\n', '\r': '\\r', '\t': '\\t' }

/**
 * A ClassAd string literal. ClassAd strings cannot hold NUL (the parser ends the string there),
 * so NUL and unpaired UTF-16 surrogates become U+FFFD; other control characters are escaped, in
 * octal per UTF-8 byte when they have no short escape; everything else is printed as UTF-8.
 */
function classadString (value: string): string {
  let out = '"'
  // with the u flag, a surrogate range matches only unpaired surrogates
  for (const char of value.replace(/\0|[\ud800-\udfff]/gu, '\ufffd')) {
    const short = SHORT_ESCAPES[char]
    if (short !== undefined) out += short
    else if (CONTROL.test(char)) for (const byte of encoder.encode(char)) out += '\\' + byte.toString(8).padStart(3, '0')
    else out += char
  }
  return out + '"'
}

function classadNumber (value: number): string {
  // the classad schema admits finite numbers only; `undefined` keeps the output parseable if one slips through
  if (!Number.isFinite(value)) return 'undefined'
  // rounding to thousandths overflows above 1.8e305: such a number has no thousandths to round
  const rounded = Math.round(value * 1000) / 1000
  return String(Number.isFinite(rounded) ? rounded : value)
}

/**
 * The classad in HTCondor's ClassAd syntax: `[ VMID = "..."; Memory = 64; ... ]`.
 *
 * The built-in attributes are `CLASSAD_BUILTINS`. Each export is `Export_<classadName(name)>`,
 * and each action's output `Action_<classadName(id)>_ExitCode`, `_Stdout` and `_Stderr`. No two
 * attribute names are equal, ignoring case; no export or action output can set a built-in; and
 * the output parses for any classad, whatever its ids, exports and guest output.
 */
export function formatClassad (ad: Classad): string {
  const attrs: Array<[string, string | number]> = [
    ['VMID', ad.vmid], ['Plant', ad.plant], ['Domain', ad.domain], ['Owner', ad.owner], ['State', ad.state],
    ['Memory', ad.memoryMB], ['OpSys', ad.os], ['Arch', ad.arch], ['ProductionLine', ad.line], ['GoldenImage', ad.goldenImage],
    ['Network', ad.network.name], ['NetworkIndex', ad.network.index],
    ...(ad.nic !== undefined ? [['MAC', ad.nic.mac] as [string, string]] : []),
    ...(ad.nic?.address !== undefined ? [['IPAddress', ad.nic.address] as [string, string]] : []),
    ['Cost', ad.cost], ['CreatedAt', ad.createdAt],
    ['BiddingMs', ad.timings.biddingMs], ['CloningMs', ad.timings.cloningMs], ['ConfiguringMs', ad.timings.configuringMs], ['TotalMs', ad.timings.totalMs],
    ['ClonedActions', ad.actions.cloned.join(',')], ['RunActions', ad.actions.run.join(',')]
  ]
  if (ad.recovered.length > 0) attrs.push(['RecoveredErrors', ad.recovered.map((r) => `${r.action}:${r.exitCode}`).join(',')])
  for (const [key, value] of Object.entries(ad.attributes)) attrs.push([`Export_${classadName(key)}`, value])
  for (const [id, out] of Object.entries(ad.outputs)) {
    const name = classadName(id)
    attrs.push([`Action_${name}_ExitCode`, out.exitCode], [`Action_${name}_Stdout`, out.stdout], [`Action_${name}_Stderr`, out.stderr])
  }
  const body = attrs.map(([k, v]) => `  ${k} = ${typeof v === 'number' ? classadNumber(v) : classadString(v)};`).join('\n')
  return `[\n${body}\n]`
}
