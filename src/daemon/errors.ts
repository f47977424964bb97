/** A node config that cannot be used; the message names the file and the field. */
export class ConfigError extends Error {
  static override name = 'ConfigError'
  constructor (message: string, options?: ErrorOptions) {
    super(message, options)
    this.name = ConfigError.name
  }
}
