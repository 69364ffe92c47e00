/**
 * The one error type the DBN reader throws for bad input, so callers can tell a damaged file from a bug.
 *
 * `offset` counts bytes of the DBN stream: the file itself when it is plain, the decompressed bytes when it is zstd
 * (`compressed` says which), because record boundaries only exist in the decompressed stream.
 */
export class DbnError extends Error {
  override readonly name = 'DbnError';
  constructor(
    readonly reason: string,
    readonly file: string,
    readonly offset: number,
    readonly compressed: boolean,
    options?: ErrorOptions,
  ) {
    super(`${file}: ${reason} (at byte ${offset} of the ${compressed ? 'decompressed zstd stream' : 'file'})`, options);
  }
}
