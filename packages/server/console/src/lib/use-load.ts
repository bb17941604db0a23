import { useCallback, useEffect, useState } from 'preact/hooks';
import { asProblem, type ProblemError } from '../api/problem.ts';

export interface Loaded<T> {
  data: T | undefined;
  problem: ProblemError | undefined;
  isLoading: boolean;
  reload(): void;
  /** Replace the data after a change the page made itself (no second round trip). */
  set(update: (data: T) => T): void;
}

/**
 * Loads a page's first content: `load` starts all of its requests at once (Promise.all), so a page
 * shows after one round trip. An answer that arrives after the page moved on is dropped.
 */
export function useLoad<T>(load: () => Promise<T>, dependencies: readonly unknown[] = []): Loaded<T> {
  const [state, setState] = useState<{ data?: T; problem?: ProblemError; isLoading: boolean }>({ isLoading: true });
  const [generation, setGeneration] = useState(0);
  useEffect(() => {
    let isCurrent = true;
    setState((previous) => ({ ...previous, isLoading: true }));
    load().then(
      (data) => isCurrent && setState({ data, isLoading: false }),
      (error: unknown) => isCurrent && setState({ problem: asProblem(error), isLoading: false }),
    );
    return () => {
      isCurrent = false;
    };
  }, [generation, ...dependencies]);
  const reload = useCallback(() => setGeneration((value) => value + 1), []);
  const set = useCallback(
    (update: (data: T) => T) => setState((previous) => (previous.data === undefined ? previous : { ...previous, data: update(previous.data) })),
    [],
  );
  return { data: state.data, problem: state.problem, isLoading: state.isLoading, reload, set };
}
