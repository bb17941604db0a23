"""Check an m2m-auth access token the way a Python resource server would: offline, against the
issuer's JWKS (cached by PyJWKClient), with iss, aud, exp, the algorithm, typ and scopes.

    M2M_AUTH_ISSUER=http://127.0.0.1:8080 AUDIENCE=https://orders.example REQUIRED_SCOPE=read:orders \
    python3 examples/python/verify_token.py "$TOKEN"        # from the repository root

Needs PyJWT with cryptography (Debian: python3-jwt, python3-cryptography). In a Flask or FastAPI
app, create one TokenVerifier at start and call verify() with the Bearer token of each request.
"""
import os
import sys

import jwt
import requests


class InvalidToken(Exception):
    """401 invalid_token."""


class InsufficientScope(Exception):
    """403 insufficient_scope."""


class TokenVerifier:
    def __init__(self, issuer, audience):
        self.issuer = issuer.rstrip("/")
        self.audience = audience
        metadata = requests.get(f"{self.issuer}/.well-known/oauth-authorization-server", timeout=10).json()
        # Keys are cached; an unknown kid (a rotated key) makes PyJWKClient fetch the JWKS again.
        self.jwks = jwt.PyJWKClient(metadata["jwks_uri"], cache_keys=True)

    def verify(self, token, required_scopes=()):
        try:
            if jwt.get_unverified_header(token).get("typ", "").lower() not in ("at+jwt", "application/at+jwt"):
                raise InvalidToken("not an access token (typ must be at+jwt)")
            key = self.jwks.get_signing_key_from_jwt(token)
            claims = jwt.decode(
                token,
                key.key,
                algorithms=["RS256", "PS256", "ES256", "EdDSA"],  # never HS256 with a public key, never none
                audience=self.audience,
                issuer=self.issuer,
                leeway=5,
                options={"require": ["exp", "iss", "aud", "sub"]},
            )
        except jwt.PyJWTError as error:
            raise InvalidToken(str(error)) from error
        missing = set(required_scopes) - set(claims.get("scope", "").split())
        if missing:
            raise InsufficientScope(f"missing scopes: {' '.join(sorted(missing))}")
        return claims


def main():
    if len(sys.argv) != 2 or not os.environ.get("M2M_AUTH_ISSUER") or not os.environ.get("AUDIENCE"):
        sys.exit("usage: M2M_AUTH_ISSUER=… AUDIENCE=… [REQUIRED_SCOPE=…] python3 examples/python/verify_token.py <token>")
    verifier = TokenVerifier(os.environ["M2M_AUTH_ISSUER"], os.environ["AUDIENCE"])
    scopes = os.environ.get("REQUIRED_SCOPE", "").split()
    try:
        claims = verifier.verify(sys.argv[1], scopes)
    except (InvalidToken, InsufficientScope) as error:
        print(f"rejected ({'403' if isinstance(error, InsufficientScope) else '401'}): {error}")
        sys.exit(1)
    print(f"valid: client {claims.get('client_id', claims['sub'])}, scope {claims.get('scope', '')!r}")


if __name__ == "__main__":
    main()
