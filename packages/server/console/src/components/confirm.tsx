import type { ComponentChildren } from 'preact';
import { useState } from 'preact/hooks';
import { asProblem, type ProblemError } from '../api/problem.ts';
import { Dialog } from './dialog.tsx';
import { ProblemView } from './problem-view.tsx';

/** Asks before a destructive step, saying what goes with it; the server's refusal is shown in place. */
export function Confirm({
  title,
  action,
  children,
  onConfirm,
  onClose,
}: {
  title: string;
  action: string;
  children: ComponentChildren;
  onConfirm: () => Promise<void>;
  onClose: () => void;
}) {
  const [problem, setProblem] = useState<ProblemError>();
  const [isBusy, setBusy] = useState(false);
  return (
    <Dialog title={title} onClose={onClose}>
      <div class="confirm-body">{children}</div>
      <ProblemView problem={problem} />
      <div class="actions">
        <button
          type="button"
          class="danger"
          disabled={isBusy}
          onClick={async () => {
            setBusy(true);
            setProblem(undefined);
            try {
              await onConfirm();
            } catch (error) {
              setProblem(asProblem(error));
            } finally {
              setBusy(false);
            }
          }}
        >
          {action}
        </button>
        <button type="button" onClick={onClose}>
          Cancel
        </button>
      </div>
    </Dialog>
  );
}
