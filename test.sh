#!/usr/bin/env bash
# Runs the whole test suite, as CI does. Installs the programs the integration tests start
# (PostgreSQL, nginx, openssl, promtool from prometheus, headless Chromium for the web pages), shellcheck and the Dockerfile
# linter (dockerfile-utils, from npm) when they are
# missing and we may install; prints "N passed, N failed" at the end.
set -euo pipefail
cd "$(dirname "$0")"

missing=()
compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null || missing+=(postgresql)
[ -x /usr/sbin/nginx ] || missing+=(nginx)
command -v openssl >/dev/null || missing+=(openssl)
command -v promtool >/dev/null || missing+=(prometheus)
command -v shellcheck >/dev/null || missing+=(shellcheck)
command -v chromium >/dev/null || command -v chromium-browser >/dev/null || missing+=(chromium)
command -v dockerfile-utils >/dev/null || command -v npm >/dev/null || missing+=(npm)
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null; then
    echo "Installing ${missing[*]} ..."
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  else
    echo "The integration tests need: ${missing[*]} (Debian: sudo apt-get install -y ${missing[*]})" >&2
    exit 1
  fi
fi

if ! command -v dockerfile-utils >/dev/null; then
  if command -v npm >/dev/null && { [ "$(id -u)" -eq 0 ] || [ -w "$(npm prefix -g 2>/dev/null)" ]; }; then
    echo "Installing dockerfile-utils ..."
    npm install -g --silent dockerfile-utils@0.16.3 >/dev/null
  else
    echo "The Dockerfile lint test needs: dockerfile-utils (npm install -g dockerfile-utils@0.16.3)" >&2
    exit 1
  fi
fi

results=TestResults
rm -rf "$results"
status=0
dotnet test Headscale.Actors.sln -c Release \
  --logger "trx" --logger "console;verbosity=normal" --results-directory "$results" \
  --blame-hang-timeout 10m || status=$?

passed=0
failed=0
for trx in "$results"/*.trx; do
  [ -e "$trx" ] || continue
  counters=$(grep -o '<Counters [^>]*>' "$trx" | head -n 1)
  p=$(sed -n 's/.* passed="\([0-9]*\)".*/\1/p' <<<"$counters")
  f=$(sed -n 's/.* failed="\([0-9]*\)".*/\1/p' <<<"$counters")
  passed=$((passed + ${p:-0}))
  failed=$((failed + ${f:-0}))
done
if [ "$failed" -gt 0 ]; then
  # The console log is long; repeat the failures (name and first lines of the message) at the end.
  echo "Failed tests:"
  for trx in "$results"/*.trx; do
    [ -e "$trx" ] || continue
    python3 - "$trx" <<'PY' || grep -o 'testName="[^"]*"[^>]*outcome="Failed"' "$trx" || true
import sys, xml.etree.ElementTree as ET
ns = {"t": "http://microsoft.com/schemas/VisualStudio/TeamTest/2010"}
for r in ET.parse(sys.argv[1]).getroot().iterfind(".//t:UnitTestResult", ns):
    if r.get("outcome") != "Failed":
        continue
    message = r.findtext("t:Output/t:ErrorInfo/t:Message", default="", namespaces=ns)
    print("  " + r.get("testName", "?"))
    for line in message.strip().splitlines()[:6]:
        print("    " + line[:300])
PY
  done
fi
if [ "$passed" -eq 0 ] && [ "$failed" -eq 0 ] && [ "$status" -ne 0 ]; then
  failed=1 # the build or the runner failed before any test ran
fi
echo "$passed passed, $failed failed"
exit "$status"
