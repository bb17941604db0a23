import { useState } from 'preact/hooks';
import { asProblem, type ProblemError } from '../api/problem.ts';

/** Runs a change (a form's submit, a button): busy while it runs, the server's problem kept to show. */
export function useAction() {
  const [problem, setProblem] = useState<ProblemError>();
  const [isBusy, setBusy] = useState(false);
  async function run(action: () => Promise<void>): Promise<boolean> {
    setBusy(true);
    setProblem(undefined);
    try {
      await action();
      return true;
    } catch (error) {
      setProblem(asProblem(error));
      return false;
    } finally {
      setBusy(false);
    }
  }
  return { problem, isBusy, run, clear: () => setProblem(undefined) };
}
