/** Where a request in flight is kept, so every caller who comes while it runs shares it. */
export interface FlightSlot<T> {
  inFlight: Promise<T> | undefined;
}

/**
 * Step 2 (single flight): starts `run` and keeps its promise in the slot until it settles, so
 * many concurrent callers cause one token request. Callers join with `slot.inFlight ?? startFlight(…)`.
 */
export function startFlight<T>(slot: FlightSlot<T>, run: () => Promise<T>): Promise<T> {
  const pending = run();
  slot.inFlight = pending;
  const clear = () => {
    if (slot.inFlight === pending) slot.inFlight = undefined;
  };
  pending.then(clear, clear);
  return pending;
}
