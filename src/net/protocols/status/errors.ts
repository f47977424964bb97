/** `vmplant status` could not connect to the node, or the node dropped the connection at once (a closed federation). */
export class NodeUnreachableError extends Error {
  static override name = 'NodeUnreachableError'
  constructor (message: string, options?: ErrorOptions) {
    super(message, options)
    this.name = NodeUnreachableError.name
  }
}
