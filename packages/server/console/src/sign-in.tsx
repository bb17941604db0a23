import { useEffect, useRef, useState } from 'preact/hooks';
import { asProblem, type ProblemError } from './api/problem.ts';
import { ProblemView } from './components/problem-view.tsx';

/**
 * The admin client's id and secret, exchanged for a token at once. The form is never submitted to
 * a URL (no credentials in history or logs), and the secret field is cleared after the attempt.
 */
export function SignIn({ onSignIn, notice }: { onSignIn: (clientId: string, secret: string) => Promise<void>; notice: string | undefined }) {
  const [problem, setProblem] = useState<ProblemError>();
  const [isBusy, setBusy] = useState(false);
  const heading = useRef<HTMLHeadingElement>(null);
  useEffect(() => heading.current?.focus(), []);
  return (
    <main class="sign-in" id="main">
      <h1 tabIndex={-1} ref={heading}>
        m2m-auth console
      </h1>
      <p>Sign in with an admin client: its id and secret are exchanged for a short-lived admin token, and you see what its scopes allow.</p>
      {notice ? (
        <p class="notice" role="status">
          {notice}
        </p>
      ) : null}
      <form
        method="post"
        action="#"
        onSubmit={async (event) => {
          event.preventDefault();
          const form = event.currentTarget;
          const data = new FormData(form);
          setBusy(true);
          setProblem(undefined);
          try {
            await onSignIn(String(data.get('client_id') ?? '').trim(), String(data.get('client_secret') ?? ''));
          } catch (error) {
            setProblem(asProblem(error));
            setBusy(false);
          } finally {
            const secret = form.elements.namedItem('client_secret');
            if (secret instanceof HTMLInputElement) secret.value = '';
          }
        }}
      >
        <label>
          Client id
          <input name="client_id" required autocomplete="username" spellcheck={false} />
        </label>
        <label>
          Client secret
          <input name="client_secret" type="password" required autocomplete="off" />
        </label>
        <ProblemView problem={problem} />
        <button type="submit" class="primary" disabled={isBusy}>
          {isBusy ? 'Signing in…' : 'Sign in'}
        </button>
      </form>
      <p class="muted">
        The first start of the server prints an admin client (<code>client_id</code> and <code>client_secret</code>). The token is kept in this tab’s memory
        only and renewed before it expires; reloading the page signs you out.
      </p>
    </main>
  );
}
