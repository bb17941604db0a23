import type { ProblemError } from '../api/problem.ts';

/** The server's problem details as it worded them: title, detail and each field's mistake. */
export function ProblemView({ problem }: { problem: ProblemError | undefined }) {
  if (!problem) return null;
  return (
    <div class="problem" role="alert">
      <p class="problem-title">
        <strong>{problem.title}</strong>
        {problem.status ? <span class="muted"> ({problem.status})</span> : null}
      </p>
      {problem.detail ? <p>{problem.detail}</p> : null}
      {problem.errors.length > 0 ? (
        <ul>
          {problem.errors.map((error) => (
            <li key={error.field}>
              <code>{error.field}</code>: {error.message}
            </li>
          ))}
        </ul>
      ) : null}
    </div>
  );
}

export function Loading({ what }: { what: string }) {
  return (
    <p class="muted" role="status">
      Loading {what}…
    </p>
  );
}
