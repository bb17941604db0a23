"""Call an API with a DPoP-bound token (RFC 9449): a token a thief cannot use without this process's key.

    M2M_AUTH_ISSUER=http://127.0.0.1:8080 CLIENT_ID=... CLIENT_SECRET=... \
    AUDIENCE=https://orders.example SCOPE=read:orders API_URL=http://127.0.0.1:3000/orders \
    python3 dpop_client.py

Needs requests, PyJWT and cryptography (Debian: python3-requests python3-jwt python3-cryptography).
Each request carries a fresh proof, a small JWT signed with an EC key made at start: the token
request's proof binds the token to the key (cnf.jkt), each API call's proof names that call's
method and URL and the token's hash (ath). A server that wants a nonce says use_dpop_nonce and
hands one out in DPoP-Nonce: the request is made once more with it. Logs token fetches to stderr,
never the token.
"""
import base64
import hashlib
import json
import os
import sys
import time
import uuid
from urllib.parse import urlsplit, urlunsplit

import jwt
import requests
from cryptography.hazmat.primitives.asymmetric import ec


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


class DpopKey:
    """A P-256 key of this process, and the proofs made with it."""

    def __init__(self):
        self.private_key = ec.generate_private_key(ec.SECP256R1())
        numbers = self.private_key.public_key().public_numbers()
        self.jwk = {"kty": "EC", "crv": "P-256", "x": b64url(numbers.x.to_bytes(32, "big")), "y": b64url(numbers.y.to_bytes(32, "big"))}
        # RFC 7638: the thumbprint the server writes in the token's cnf.jkt.
        canonical = json.dumps({k: self.jwk[k] for k in ("crv", "kty", "x", "y")}, separators=(",", ":"))
        self.thumbprint = b64url(hashlib.sha256(canonical.encode()).digest())
        self.nonces = {}  # the last DPoP-Nonce of each server (origin)

    def proof(self, method, url, access_token=None):
        parts = urlsplit(url)
        claims = {
            "jti": str(uuid.uuid4()),
            "htm": method,
            "htu": urlunsplit((parts.scheme, parts.netloc, parts.path, "", "")),  # no query, no fragment
            "iat": int(time.time()),
        }
        if access_token is not None:
            claims["ath"] = b64url(hashlib.sha256(access_token.encode("ascii")).digest())
        nonce = self.nonces.get(origin(url))
        if nonce:
            claims["nonce"] = nonce
        return jwt.encode(claims, self.private_key, algorithm="ES256", headers={"typ": "dpop+jwt", "jwk": self.jwk})

    def remember_nonce(self, url, response):
        nonce = response.headers.get("DPoP-Nonce")
        if nonce:
            self.nonces[origin(url)] = nonce


def origin(url):
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def wants_nonce(response):
    """RFC 9449 §8 (token endpoint: 400 use_dpop_nonce) and §9 (resource: 401 with a DPoP challenge)."""
    if "DPoP-Nonce" not in response.headers:
        return False
    if response.status_code == 400:
        return response.headers.get("content-type", "").startswith("application/json") and response.json().get("error") == "use_dpop_nonce"
    challenge = response.headers.get("WWW-Authenticate", "")
    return response.status_code == 401 and challenge.lower().startswith("dpop") and "use_dpop_nonce" in challenge


def send(session, key, method, url, access_token=None, **kwargs):
    """One request with a fresh proof; once more, with the server's nonce, when it asks for one."""
    for attempt in range(2):
        headers = {"DPoP": key.proof(method, url, access_token)}
        if access_token is not None:
            headers["Authorization"] = f"DPoP {access_token}"
        response = session.request(method, url, headers=headers, timeout=10, **kwargs)
        key.remember_nonce(url, response)
        if attempt == 1 or not wants_nonce(response):
            return response


def fetch_token(session, key, env):
    metadata = session.get(f"{env['M2M_AUTH_ISSUER'].rstrip('/')}/.well-known/oauth-authorization-server", timeout=10).json()
    if "ES256" not in metadata.get("dpop_signing_alg_values_supported", []):
        raise RuntimeError("the authorization server does not accept ES256 DPoP proofs")
    data = {"grant_type": "client_credentials", "audience": env["AUDIENCE"]}
    if env.get("SCOPE"):
        data["scope"] = env["SCOPE"]
    response = send(session, key, "POST", metadata["token_endpoint"], data=data, auth=(env["CLIENT_ID"], env["CLIENT_SECRET"]))
    body = response.json()
    if response.status_code != 200:
        raise RuntimeError(f"token request failed: {response.status_code} {body.get('error', '')} {body.get('error_description', '')}")
    if body.get("token_type", "").lower() != "dpop":
        raise RuntimeError(f"expected a DPoP-bound token, got token_type {body.get('token_type')!r}")
    print(f"token fetched (token_type {body['token_type']}, bound to key {key.thumbprint})", file=sys.stderr)
    return body["access_token"]


def main():
    env = os.environ
    session = requests.Session()
    key = DpopKey()
    token = fetch_token(session, key, env)
    for _ in range(3):
        response = send(session, key, "GET", env["API_URL"], access_token=token)
        print(response.status_code, response.text)


if __name__ == "__main__":
    main()
