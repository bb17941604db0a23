"""Delegation with m2m-auth from Python: token exchange (RFC 8693) and the JWT bearer grant (RFC 7523).

Token exchange: a service that received a token trades it for one on the API it calls next, on
the caller's behalf. It authenticates as itself; an exchange policy must allow it.

    M2M_AUTH_ISSUER=http://127.0.0.1:8080 CLIENT_ID=... CLIENT_SECRET=... \
    SUBJECT_TOKEN_FILE=./incoming-token AUDIENCE=https://ledger.example SCOPE=ledger:append \
    python3 token_exchange.py exchange

JWT bearer grant: a workload with a trusted issuer's JWT (a CI job's OIDC token, a Kubernetes
service-account token) sends it as the grant itself; no client secret, no client_id.

    M2M_AUTH_ISSUER=http://127.0.0.1:8080 ASSERTION_FILE=./platform-token \
    AUDIENCE=https://orders.example SCOPE=read:orders python3 token_exchange.py jwt-bearer

Needs requests (Debian: python3-requests). Prints who the token is for and who acts, its scope and
lifetime, never a token: the claims are read (not verified: the API that receives the token does
that) only to show them.
"""
import base64
import json
import os
import sys

import requests

TOKEN_EXCHANGE = "urn:ietf:params:oauth:grant-type:token-exchange"
JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer"
ACCESS_TOKEN_TYPE = "urn:ietf:params:oauth:token-type:access_token"
JWT_TOKEN_TYPE = "urn:ietf:params:oauth:token-type:jwt"


class TokenRequestRefused(Exception):
    def __init__(self, status, error, description):
        super().__init__(f"{status} {error} ({description})")


def token_endpoint(session, issuer):
    metadata = session.get(f"{issuer.rstrip('/')}/.well-known/oauth-authorization-server", timeout=10)
    metadata.raise_for_status()
    return metadata.json()["token_endpoint"]


def request_token(session, endpoint, data, auth=None):
    response = session.post(endpoint, data=data, auth=auth, timeout=10)
    body = response.json() if response.headers.get("content-type", "").startswith("application/json") else {}
    if response.status_code != 200:
        raise TokenRequestRefused(response.status_code, body.get("error", "?"), body.get("error_description", ""))
    return body


def exchange(session, endpoint, client_id, client_secret, subject_token, audience, scope=None, subject_token_type=ACCESS_TOKEN_TYPE):
    """RFC 8693 §2.1: the subject token, and the target; the client authenticates as itself (Basic)."""
    data = {
        "grant_type": TOKEN_EXCHANGE,
        "subject_token": subject_token,
        "subject_token_type": subject_token_type,
        "audience": audience,
    }
    if scope:
        data["scope"] = scope
    return request_token(session, endpoint, data, auth=(client_id, client_secret))


def jwt_bearer(session, endpoint, assertion, audience, scope=None):
    """RFC 7523 §2.1: the assertion is the grant and the authentication; its federated credential names the client."""
    data = {"grant_type": JWT_BEARER, "assertion": assertion, "audience": audience}
    if scope:
        data["scope"] = scope
    return request_token(session, endpoint, data)


def claims_of(token):
    """The payload of a JWT, unverified: for display only."""
    payload = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


def actors(claims):
    """The act chain (RFC 8693 §4.1), the most recent actor first."""
    chain = []
    node = claims.get("act")
    while isinstance(node, dict) and len(chain) < 16:
        chain.append(node.get("sub", "?"))
        node = node.get("act")
    return chain


def read_file(name):
    with open(os.environ[name], encoding="utf-8") as file:
        return file.read().strip()


def main():
    mode = sys.argv[1] if len(sys.argv) > 1 else "exchange"
    session = requests.Session()
    endpoint = token_endpoint(session, os.environ["M2M_AUTH_ISSUER"])
    audience, scope = os.environ["AUDIENCE"], os.environ.get("SCOPE")
    try:
        if mode == "exchange":
            answer = exchange(
                session,
                endpoint,
                os.environ["CLIENT_ID"],
                os.environ["CLIENT_SECRET"],
                read_file("SUBJECT_TOKEN_FILE"),
                audience,
                scope,
                os.environ.get("SUBJECT_TOKEN_TYPE", ACCESS_TOKEN_TYPE),
            )
            claims = claims_of(answer["access_token"])
            print(
                f"exchanged: sub {claims['sub']}, actors {' <- '.join(actors(claims)) or '-'}, "
                f"scope '{answer.get('scope', '')}', expires in {answer['expires_in']} s, issued_token_type {answer['issued_token_type']}"
            )
        elif mode == "jwt-bearer":
            answer = jwt_bearer(session, endpoint, read_file("ASSERTION_FILE"), audience, scope)
            claims = claims_of(answer["access_token"])
            print(f"access token: client {claims['client_id']}, scope '{answer.get('scope', '')}', expires in {answer['expires_in']} s")
        else:
            sys.exit(f"unknown mode {mode!r}: exchange or jwt-bearer")
    except TokenRequestRefused as refused:
        print(f"token request refused: {refused}")
        sys.exit(1)


if __name__ == "__main__":
    main()
