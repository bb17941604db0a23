/**
 * A lazily started promise shared by every caller (one discovery, one set-up, however many ask at
 * once). A failure is not remembered: the next call starts again, so an issuer that was down at
 * start-up is asked again once it is back.
 */
export function memoizeSuccess<T>(load: () => Promise<T>): () => Promise<T> {
  let pending: Promise<T> | undefined;
  return () => {
    pending ??= load().catch((error: unknown) => {
      pending = undefined;
      throw error;
    });
    return pending;
  };
}
