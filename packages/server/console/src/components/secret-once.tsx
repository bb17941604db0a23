import { useState } from 'preact/hooks';
import { useConsole } from '../context.ts';

/** A secret the server returns in one answer only: shown once, with a copy button and a warning. */
export function SecretOnce({ label, value }: { label: string; value: string }) {
  const { announce } = useConsole();
  const [isCopied, setCopied] = useState(false);
  return (
    <div class="secret-once">
      <p class="warning">
        <strong>Copy this {label} now.</strong> It is shown this once: the server keeps only a hash, and nobody can show it again.
      </p>
      <label>
        {label}
        <input type="text" readOnly value={value} class="mono" spellcheck={false} autocomplete="off" onFocus={(event) => event.currentTarget.select()} />
      </label>
      <button
        type="button"
        onClick={async () => {
          try {
            await navigator.clipboard.writeText(value);
            setCopied(true);
            announce(`The ${label} was copied to the clipboard.`);
          } catch {
            announce(`Copying was refused by the browser: select the ${label} and copy it by hand.`);
          }
        }}
      >
        {isCopied ? 'Copied' : `Copy ${label}`}
      </button>
    </div>
  );
}
