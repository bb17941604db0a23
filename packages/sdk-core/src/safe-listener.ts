/**
 * Wraps an application's event hook so that a listener that throws can never change the outcome
 * of what is being reported (a token request, an authentication).
 */
export function safeListener<E>(listener: ((event: E) => void) | undefined): (event: E) => void {
  if (!listener) return () => undefined;
  return (event) => {
    try {
      listener(event);
    } catch {
      // An observability hook must not change the outcome it observes.
    }
  };
}
