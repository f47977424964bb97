/** A node config that cannot be used; the message names the file and the field. */
export class ConfigError extends Error {
  static override name = 'ConfigError'
  constructor (message: string, options?: ErrorOptions) {
    super(message, options)
    this.name = ConfigError.name
  }
}

/** The plant's production line cannot run on this host (a program missing, a folder not on tmpfs). */
export class LineUnhealthyError extends Error {
  static override name = 'LineUnhealthyError'
  constructor (message: string, options?: ErrorOptions) {
    super(message, options)
    this.name = LineUnhealthyError.name
  }
}

/** The metrics endpoint cannot serve: its address is malformed or taken. */
export class MetricsServerError extends Error {
  static override name = 'MetricsServerError'
  constructor (message: string, options?: ErrorOptions) {
    super(message, options)
    this.name = MetricsServerError.name
  }
}
