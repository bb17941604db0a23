#!/usr/bin/env bash
# The shell's resource-server check: asks m2m-auth whether a token is active (RFC 7662
# introspection), authenticated as the API's own client. Unlike an offline JWKS check it also
# notices a disabled client. Prints the claims and exits 0 when the token is active for AUDIENCE.
#
#   M2M_AUTH_ISSUER=… CLIENT_ID=<the API's client> CLIENT_SECRET=… AUDIENCE=https://orders.example \
#   ./introspect.sh "$TOKEN"
set -euo pipefail
: "${M2M_AUTH_ISSUER:?set M2M_AUTH_ISSUER}" "${CLIENT_ID:?set CLIENT_ID}" "${CLIENT_SECRET:?set CLIENT_SECRET}" "${AUDIENCE:?set AUDIENCE}"
token="${1:?usage: introspect.sh <token>}"

endpoint=$(curl -fsS --max-time 10 "${M2M_AUTH_ISSUER%/}/.well-known/oauth-authorization-server" | jq -er .introspection_endpoint)
answer=$(printf 'user = "%s:%s"\ndata-urlencode = "token=%s"\n' "$CLIENT_ID" "$CLIENT_SECRET" "$token" | curl -fsS --max-time 10 --config - "$endpoint")
if ! jq -e --arg aud "$AUDIENCE" '.active and ((.aud | if type == "array" then . else [.] end) | index($aud))' <<<"$answer" >/dev/null; then
  echo "inactive"
  exit 1
fi
jq -c '{active, client_id, scope, exp}' <<<"$answer"
