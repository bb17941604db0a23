#!/usr/bin/env bash
# Calls an API three times with a cached token from m2m-token.sh; on 401, drops the token and
# retries once.
#
#   M2M_AUTH_ISSUER=… CLIENT_ID=… CLIENT_SECRET=… AUDIENCE=… SCOPE=… API_URL=… ./call-api.sh
set -euo pipefail
: "${API_URL:?set API_URL}"
here=$(dirname "$0")

call() {
  local token
  token=$("$here/m2m-token.sh")
  # The header goes to curl on stdin, so the token is not on a command line either.
  printf 'header = "Authorization: Bearer %s"\n' "$token" | curl -sS --max-time 10 --config - -w '\n%{http_code}' "$API_URL"
}

for _ in 1 2 3; do
  response=$(call)
  if [[ "${response##*$'\n'}" == 401 ]]; then
    REFRESH_AHEAD=1000000 response=$(call) # forces a new token
  fi
  echo "${response##*$'\n'} ${response%$'\n'*}"
done
