/** A request that got no usable HTTP answer. `transient` says whether trying again may help. */
export class TransportError extends Error {
  override name = 'TransportError'
  constructor(
    message: string,
    readonly transient: boolean
  ) {
    super(message)
  }
}
