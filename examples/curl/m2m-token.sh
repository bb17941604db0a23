#!/usr/bin/env bash
# Prints an access token for a client, from a cache file while it has more than 60 s to live.
#
#   M2M_AUTH_ISSUER=http://127.0.0.1:8080 CLIENT_ID=… CLIENT_SECRET=… AUDIENCE=https://orders.example \
#   SCOPE=read:orders ./m2m-token.sh
#   curl -H "Authorization: Bearer $(./m2m-token.sh)" https://orders.example/orders
#
# Needs bash, curl and jq. The secret goes to curl on stdin (a config file), never on its command
# line where `ps` would show it. Logs fetches to stderr, never the token.
set -euo pipefail

: "${M2M_AUTH_ISSUER:?set M2M_AUTH_ISSUER}" "${CLIENT_ID:?set CLIENT_ID}" "${CLIENT_SECRET:?set CLIENT_SECRET}"
AUDIENCE="${AUDIENCE:-}"
SCOPE="${SCOPE:-}"
REFRESH_AHEAD="${REFRESH_AHEAD:-60}"

# One cache file per client, audience and scope, readable only by this user.
key=$(printf '%s\n' "$M2M_AUTH_ISSUER" "$CLIENT_ID" "$AUDIENCE" "$SCOPE" | sha256sum | cut -c1-16)
cache="${TOKEN_CACHE_DIR:-${XDG_RUNTIME_DIR:-${TMPDIR:-/tmp}}}/m2m-auth-token-$(id -u)-$key"

now=$(date +%s)
if [[ -s "$cache" ]]; then
  { read -r expires_at; read -r token; } < "$cache"
  if (( expires_at - REFRESH_AHEAD > now )); then
    printf '%s\n' "$token"
    exit 0
  fi
fi

token_endpoint=$(curl -fsS --max-time 10 "${M2M_AUTH_ISSUER%/}/.well-known/oauth-authorization-server" | jq -er .token_endpoint)
args=(--data-urlencode grant_type=client_credentials)
[[ -n "$AUDIENCE" ]] && args+=(--data-urlencode "audience=$AUDIENCE")
[[ -n "$SCOPE" ]] && args+=(--data-urlencode "scope=$SCOPE")
response=$(printf 'user = "%s:%s"\n' "$CLIENT_ID" "$CLIENT_SECRET" | curl -sS --max-time 10 --config - -w '\n%{http_code}' "${args[@]}" "$token_endpoint")
status=${response##*$'\n'}
body=${response%$'\n'*}
if [[ "$status" != 200 ]]; then
  echo "token request failed: $status $(jq -r '"\(.error): \(.error_description // "")"' <<<"$body" 2>/dev/null || true)" >&2
  exit 1
fi
token=$(jq -er .access_token <<<"$body")
expires_in=$(jq -er .expires_in <<<"$body")
(umask 077 && printf '%s\n%s\n' "$(( now + expires_in ))" "$token" > "$cache.$$" && mv "$cache.$$" "$cache")
echo "token fetched (expires in $expires_in s, scope '$(jq -r '.scope // ""' <<<"$body")')" >&2
printf '%s\n' "$token"
