import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import type { JSX } from 'preact';
import { createAdminClient } from './api/admin-client.ts';
import { permissionsOf } from './auth/permissions.ts';
import { createSessionManager, type Session } from './auth/session.ts';
import { Console, type ConsoleContext } from './context.ts';
import { ROUTES, resolveRoute } from './routes.ts';
import { SignIn } from './sign-in.tsx';
import { OverviewPage } from './pages/overview.tsx';
import { ApisPage } from './pages/apis.tsx';
import { ClientsPage } from './pages/clients.tsx';
import { GrantsPage } from './pages/grants.tsx';
import { KeysPage } from './pages/keys.tsx';
import { AuditPage } from './pages/audit.tsx';
import { InspectorPage } from './pages/inspector.tsx';
import { ConfigPage } from './pages/config.tsx';

const PAGES: Record<string, () => JSX.Element> = {
  overview: OverviewPage,
  apis: ApisPage,
  clients: ClientsPage,
  grants: GrantsPage,
  keys: KeysPage,
  audit: AuditPage,
  inspector: InspectorPage,
  config: ConfigPage,
};

function useHash(): string {
  const [hash, setHash] = useState(location.hash);
  useEffect(() => {
    const update = () => setHash(location.hash);
    addEventListener('hashchange', update);
    return () => removeEventListener('hashchange', update);
  }, []);
  return hash;
}

export function App() {
  const [session, setSession] = useState<Session>();
  const [notice, setNotice] = useState<string>();
  const [announcement, setAnnouncement] = useState('');
  const sessions = useMemo(
    () =>
      createSessionManager({
        onChange: (next, reason) => {
          setSession(next);
          if (!next) setNotice(reason);
        },
      }),
    [],
  );
  // Leaving the page ends the session: the token is revoked, nothing survives the tab.
  useEffect(() => {
    const leave = () => void sessions.signOut();
    addEventListener('pagehide', leave);
    return () => removeEventListener('pagehide', leave);
  }, [sessions]);
  const api = useMemo(
    () =>
      createAdminClient({ token: sessions.token, onUnauthorized: () => void sessions.signOut('Your session ended: the server no longer accepts its token.') }),
    [sessions],
  );
  const context: ConsoleContext = useMemo(
    () => ({
      api,
      can: permissionsOf(session),
      announce: (message) => setAnnouncement((previous) => (previous === message ? `${message}\u00a0` : message)),
    }),
    [api, session],
  );
  const hash = useHash();

  return (
    <>
      <a
        class="skip-link"
        href="#main"
        onClick={(event) => {
          // The hash is the route: following #main would leave the page. Focus moves instead.
          event.preventDefault();
          document.getElementById('main')?.focus();
        }}
      >
        Skip to content
      </a>
      {session ? (
        <Console.Provider value={context}>
          <Shell session={session} hash={hash} onSignOut={() => void sessions.signOut('You signed out. The token was revoked and forgotten.')} />
        </Console.Provider>
      ) : (
        <SignIn
          notice={notice}
          onSignIn={async (clientId, secret) => {
            await sessions.signIn(clientId, secret);
            setNotice(undefined);
          }}
        />
      )}
      <div class="visually-hidden" role="status" aria-live="polite">
        {announcement}
      </div>
    </>
  );
}

function Shell({ session, hash, onSignOut }: { session: Session; hash: string; onSignOut: () => void }) {
  const can = permissionsOf(session);
  const route = resolveRoute(hash, can);
  const heading = useRef<HTMLElement>(null);
  // A route change moves focus to the page, so keyboard and screen-reader users start there.
  useEffect(() => {
    if (route) document.title = `${route.title} · m2m-auth console`;
    heading.current?.querySelector('h1')?.focus();
  }, [route]);
  const Page = route ? PAGES[route.path] : undefined;
  return (
    <div class="shell">
      <header class="top">
        <span class="brand">m2m-auth console</span>
        <nav aria-label="Console">
          <ul>
            {ROUTES.filter((candidate) => candidate.isAllowed(can)).map((candidate) => (
              <li key={candidate.path}>
                <a href={`#/${candidate.path}`} aria-current={candidate === route ? 'page' : undefined}>
                  {candidate.title}
                </a>
              </li>
            ))}
          </ul>
        </nav>
        <div class="who">
          <span>
            Signed in as <code>{session.clientId}</code>
          </span>
          <button type="button" onClick={onSignOut}>
            Sign out
          </button>
        </div>
      </header>
      <main id="main" tabIndex={-1} ref={heading}>
        {Page ? (
          <Page key={route!.path} />
        ) : (
          <>
            <h1 tabIndex={-1}>Nothing to show</h1>
            <p>This admin client holds no admin scope the console uses: {[...session.scopes].join(' ') || '(none)'}.</p>
          </>
        )}
      </main>
    </div>
  );
}
