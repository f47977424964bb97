/** The peer does not hold the image, or it holds no artifact of that name in it. */
export class ImageNotHeldError extends Error {
  static override name = 'ImageNotHeldError'
  constructor (message: string, options?: ErrorOptions) {
    super(message, options)
    this.name = ImageNotHeldError.name
  }
}

/** A transfer that broke or did not keep to its header (too few or too many bytes); the partial file stays for a resume. */
export class TransferError extends Error {
  static override name = 'TransferError'
  constructor (message: string, options?: ErrorOptions) {
    super(message, options)
    this.name = TransferError.name
  }
}
