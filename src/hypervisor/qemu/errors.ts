/** QMP answered a command with an error. `errorClass` is QMP's class, such as `GenericError`. */
export class QmpCommandError extends Error {
  static override name = 'QmpCommandError'
  readonly command: string
  readonly errorClass: string
  constructor (command: string, errorClass: string, description: string, options?: ErrorOptions) {
    super(`QMP ${command} failed (${errorClass}): ${description}`, options)
    this.name = QmpCommandError.name
    this.command = command
    this.errorClass = errorClass
  }
}

/** The QMP connection closed (QEMU exited or the client closed it) before an answer came. */
export class QmpClosedError extends Error {
  static override name = 'QmpClosedError'
  constructor (message: string, options?: ErrorOptions) {
    super(message, options)
    this.name = QmpClosedError.name
  }
}

/** QMP sent something that is not QMP: no greeting, or a line that is not JSON. */
export class QmpProtocolError extends Error {
  static override name = 'QmpProtocolError'
  constructor (message: string, options?: ErrorOptions) {
    super(message, options)
    this.name = QmpProtocolError.name
  }
}

/** A field of the QEMU line's init object is wrong; `path` names it. */
export class InvalidQemuLineInitError extends Error {
  static override name = 'InvalidQemuLineInitError'
  readonly path: string
  constructor (path: string, reason: string, options?: ErrorOptions) {
    super(`invalid qemu line init: ${path} ${reason}`, options)
    this.name = InvalidQemuLineInitError.name
    this.path = path
  }
}

/** QEMU exited or failed before the VM was up; `log` holds the end of its stderr. */
export class QemuStartError extends Error {
  static override name = 'QemuStartError'
  readonly log: string
  constructor (message: string, log = '', options?: ErrorOptions) {
    super(log === '' ? message : `${message}: ${log.trim().split('\n').slice(-3).join(' | ')}`, options)
    this.name = QemuStartError.name
    this.log = log
  }
}

/** A migration (checkpoint or incoming) ended in a state other than `completed`. */
export class MigrationError extends Error {
  static override name = 'MigrationError'
  constructor (message: string, options?: ErrorOptions) {
    super(message, options)
    this.name = MigrationError.name
  }
}

/** A fetched golden image the QEMU line cannot take (another line, hardware or machine model, a file that is not its descriptor's); nothing of it is kept. */
export class GoldenImportError extends Error {
  static override name = 'GoldenImportError'
  readonly image: string
  constructor (image: string, problem: string, options?: ErrorOptions) {
    super(`golden image ${image} refused by the qemu line: ${problem}`, options)
    this.name = GoldenImportError.name
    this.image = image
  }
}
