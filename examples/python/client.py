"""Call an API protected by m2m-auth, with a cached client-credentials token.

    M2M_AUTH_ISSUER=http://127.0.0.1:8080 CLIENT_ID=... CLIENT_SECRET=... \
    AUDIENCE=https://orders.example SCOPE=read:orders API_URL=http://127.0.0.1:3000/orders \
    python3 examples/python/client.py        # from the repository root

Needs requests (Debian: python3-requests). Logs token fetches to stderr, never the token.
"""
import os
import sys
import threading
import time

import requests


class TokenClient:
    """Gets client-credentials tokens and reuses each until shortly before it expires."""

    def __init__(self, issuer, client_id, client_secret, audience=None, scope=None, refresh_ahead=60):
        self.issuer = issuer.rstrip("/")
        self.client_id = client_id
        self.client_secret = client_secret
        self.audience = audience
        self.scope = scope
        self.refresh_ahead = refresh_ahead
        self.session = requests.Session()
        self._token_endpoint = None
        self._token = None
        self._expires_at = 0.0
        self._margin = 0.0
        self._lock = threading.Lock()  # one fetch at a time, however many threads ask

    def token_endpoint(self):
        if self._token_endpoint is None:
            metadata = self.session.get(f"{self.issuer}/.well-known/oauth-authorization-server", timeout=10)
            metadata.raise_for_status()
            self._token_endpoint = metadata.json()["token_endpoint"]
        return self._token_endpoint

    def get_token(self):
        with self._lock:
            # Refresh when max(refresh_ahead, a fifth of the lifetime) remain, not at the last second.
            if self._token is None or time.time() >= self._expires_at - self._margin:
                self._fetch()
            return self._token

    def invalidate(self):
        with self._lock:
            self._token = None

    def _fetch(self):
        data = {"grant_type": "client_credentials"}
        if self.audience:
            data["audience"] = self.audience
        if self.scope:
            data["scope"] = self.scope
        response = self.session.post(self.token_endpoint(), data=data, auth=(self.client_id, self.client_secret), timeout=10)
        if response.status_code != 200:
            body = response.json() if response.headers.get("content-type", "").startswith("application/json") else {}
            raise RuntimeError(f"token request failed: {response.status_code} {body.get('error', '')} {body.get('error_description', '')}")
        body = response.json()
        lifetime = int(body["expires_in"])
        self._token = body["access_token"]
        self._expires_at = time.time() + lifetime
        self._margin = min(lifetime / 2, max(self.refresh_ahead, lifetime / 5))
        print(f"token fetched (expires in {lifetime} s, scope {body.get('scope', '')!r})", file=sys.stderr)


def call_api(tokens, method, url, **kwargs):
    """One request with the bearer token; on 401 invalid_token, one retry with a fresh token."""
    response = tokens.session.request(method, url, headers={"Authorization": f"Bearer {tokens.get_token()}"}, timeout=10, **kwargs)
    if response.status_code == 401 and "invalid_token" in response.headers.get("WWW-Authenticate", "invalid_token"):
        tokens.invalidate()
        response = tokens.session.request(method, url, headers={"Authorization": f"Bearer {tokens.get_token()}"}, timeout=10, **kwargs)
    return response


def main():
    env = os.environ
    missing = [name for name in ("M2M_AUTH_ISSUER", "CLIENT_ID", "CLIENT_SECRET", "API_URL") if not env.get(name)]
    if missing:
        sys.exit(f"set {', '.join(missing)} (AUDIENCE and SCOPE are optional)")
    tokens = TokenClient(env["M2M_AUTH_ISSUER"], env["CLIENT_ID"], env["CLIENT_SECRET"], env.get("AUDIENCE"), env.get("SCOPE"))
    for _ in range(3):  # three calls, one token
        response = call_api(tokens, "GET", env["API_URL"])
        print(f"{response.status_code} {response.text}")


if __name__ == "__main__":
    main()
