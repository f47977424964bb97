/** A file that exists but does not hold what it should (a half-written or damaged file), named in the message. */
export class CorruptFileError extends Error {
  static override name = 'CorruptFileError'
  constructor (readonly file: string, message: string, options?: ErrorOptions) {
    super(message, options)
    this.name = CorruptFileError.name
  }
}
