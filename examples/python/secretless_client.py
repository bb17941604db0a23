"""Get an m2m-auth access token with the workload's platform token instead of a client secret.

    M2M_AUTH_ISSUER=https://auth.internal.example PLATFORM_TOKEN_FILE=/var/run/secrets/tokens/m2m-auth \
    AUDIENCE=https://orders.example SCOPE=read:orders python3 secretless_client.py

The platform token (a Kubernetes projected service-account token, a CI job's OIDC token, a SPIFFE
JWT-SVID) is the credential: m2m-auth trusts its issuer and maps its subject to a client
(docs/secretless.md). ASSERTION_TYPE=jwt-spiffe sends a JWT-SVID; CLIENT_ID is needed only when
the subject matches credentials of several clients. Standard library only. Prints the scope and
lifetime of the access token it got, never a token.
"""
import json
import os
import sys
import urllib.error
import urllib.parse
import urllib.request

ASSERTION_TYPES = {
    "jwt-bearer": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
    "jwt-spiffe": "urn:ietf:params:oauth:client-assertion-type:jwt-spiffe",
}


class TokenRequestRefused(Exception):
    def __init__(self, status, body):
        super().__init__(f"{status} {body.get('error', '')} ({body.get('error_description', '')})")


def read_platform_token(path):
    # Read for every token request: the platform rewrites the file before its token expires.
    with open(path, encoding="utf-8") as file:
        return file.read().strip()


def token_endpoint(issuer):
    """The token endpoint from the issuer's metadata (RFC 8414)."""
    with urllib.request.urlopen(f"{issuer.rstrip('/')}/.well-known/oauth-authorization-server", timeout=10) as response:
        return json.load(response)["token_endpoint"]


def request_token(endpoint, platform_token, assertion_type="jwt-bearer", audience=None, scope=None, client_id=None):
    """client_credentials with the platform token as the client assertion (RFC 7523 §2.2)."""
    form = {
        "grant_type": "client_credentials",
        "client_assertion_type": ASSERTION_TYPES[assertion_type],
        "client_assertion": platform_token,
    }
    for name, value in (("audience", audience), ("scope", scope), ("client_id", client_id)):
        if value:
            form[name] = value
    request = urllib.request.Request(
        endpoint,
        data=urllib.parse.urlencode(form).encode("ascii"),
        headers={"Content-Type": "application/x-www-form-urlencoded", "Accept": "application/json"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return json.load(response)
    except urllib.error.HTTPError as error:
        try:
            body = json.load(error)
        except ValueError:
            body = {}
        raise TokenRequestRefused(error.code, body) from None


def main():
    env = os.environ
    missing = [name for name in ("M2M_AUTH_ISSUER", "PLATFORM_TOKEN_FILE") if not env.get(name)]
    if missing:
        sys.exit(f"set {', '.join(missing)} (AUDIENCE, SCOPE, CLIENT_ID and ASSERTION_TYPE are optional)")
    assertion_type = env.get("ASSERTION_TYPE", "jwt-bearer")
    if assertion_type not in ASSERTION_TYPES:
        sys.exit(f"ASSERTION_TYPE must be one of {', '.join(ASSERTION_TYPES)}")
    try:
        body = request_token(
            token_endpoint(env["M2M_AUTH_ISSUER"]),
            read_platform_token(env["PLATFORM_TOKEN_FILE"]),
            assertion_type,
            env.get("AUDIENCE"),
            env.get("SCOPE"),
            env.get("CLIENT_ID"),
        )
    except TokenRequestRefused as refused:
        sys.exit(f"token request refused: {refused}")
    # The access token goes into Authorization headers, never into a log.
    print(f"access token: scope {body.get('scope', '')!r}, expires in {body['expires_in']} s")


if __name__ == "__main__":
    main()
