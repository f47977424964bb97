/** A fetched artifact whose SHA-256 is not the one its descriptor names; the partial file was deleted. */
export class DigestMismatchError extends Error {
  static override name = 'DigestMismatchError'
  constructor (readonly image: string, readonly artifact: string, readonly expected: string, readonly actual: string, options?: ErrorOptions) {
    super(`artifact ${artifact} of image ${image} hashes to ${actual}, not ${expected}: refused and deleted`, options)
    this.name = DigestMismatchError.name
  }
}

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

/** Keys of the image index that reached no DHT peer; the next announcement tries them again. */
export class ProvideError extends Error {
  static override name = 'ProvideError'
  constructor (message: string, options?: ErrorOptions) {
    super(message, options)
    this.name = ProvideError.name
  }
}

/** An option of the image component that cannot be used; `path` names it. */
export class InvalidImagesInitError extends Error {
  static override name = 'InvalidImagesInitError'
  constructor (readonly path: string, problem: string) {
    super(`${path}: ${problem}`)
    this.name = InvalidImagesInitError.name
  }
}
