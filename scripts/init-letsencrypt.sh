#!/usr/bin/env bash
# Obtains the first Let's Encrypt certificate for the production stack (compose/docker-compose.yml).
# nginx cannot start its HTTPS server without a certificate, and certbot cannot answer the HTTP-01
# challenge without nginx, so this script:
#   1. puts a throwaway self-signed certificate where the real one will live (lineage "headscale"),
#   2. starts the stack so nginx serves /.well-known/acme-challenge/ from the shared webroot,
#   3. replaces the throwaway certificate with a real one (certbot certonly --webroot),
#   4. reloads nginx.
# After that the certbot service renews every 12 hours by itself. Run it once, from anywhere:
#   scripts/init-letsencrypt.sh [--staging] [--domain NAME] [--email ADDRESS]
# Defaults for the domain and e-mail come from compose/.env (HEADSCALE_DOMAIN, LETSENCRYPT_EMAIL).
set -euo pipefail

compose_dir="$(cd "$(dirname "$0")/../compose" && pwd)"
lineage=headscale
staging=0
domain=""
email=""

usage() {
  sed -n '2,11p' "$0" | sed 's/^# \{0,1\}//'
  exit "${1:-0}"
}

fail() {
  echo "init-letsencrypt: $*" >&2
  exit 1
}

while [ $# -gt 0 ]; do
  case "$1" in
    --staging) staging=1 ;;
    --domain) [ $# -ge 2 ] || fail "--domain needs a value"; domain="$2"; shift ;;
    --email) [ $# -ge 2 ] || fail "--email needs a value"; email="$2"; shift ;;
    -h|--help) usage 0 ;;
    *) fail "unknown argument '$1' (see --help)" ;;
  esac
  shift
done

env_value() {
  # Reads NAME=value from compose/.env without executing the file.
  [ -f "$compose_dir/.env" ] || return 0
  sed -n "s/^$1=//p" "$compose_dir/.env" | tail -n 1 | sed 's/^["'\'']//; s/["'\'']$//'
}

[ -n "$domain" ] || domain="$(env_value HEADSCALE_DOMAIN)"
[ -n "$email" ] || email="$(env_value LETSENCRYPT_EMAIL)"

[ -n "$domain" ] || fail "no domain: pass --domain or set HEADSCALE_DOMAIN in compose/.env"
[[ "$domain" =~ ^([a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?\.)+[a-zA-Z]{2,63}$ ]] \
  || fail "HEADSCALE_DOMAIN '$domain' is not a public DNS name (e.g. headscale.example.com)"
[ "$domain" != "headscale.example.com" ] || fail "HEADSCALE_DOMAIN is still the example value; set your own in compose/.env"
[ -n "$email" ] || fail "no e-mail: pass --email or set LETSENCRYPT_EMAIL in compose/.env"
[[ "$email" =~ ^[^@[:space:]]+@[^@[:space:]]+\.[^@[:space:]]+$ ]] || fail "LETSENCRYPT_EMAIL '$email' is not an e-mail address"
command -v docker >/dev/null || fail "docker is not installed"
docker compose version >/dev/null 2>&1 || fail "the docker compose plugin (v2.24 or later) is required"
command -v openssl >/dev/null || fail "openssl is required for the throwaway certificate"

compose() {
  docker compose --project-directory "$compose_dir" -f "$compose_dir/docker-compose.yml" "$@"
}

live="/etc/letsencrypt/live/$lineage"
certbot_image="$(compose config --images | grep '^certbot/certbot:' | head -n 1)"
[ -n "$certbot_image" ] || fail "compose/docker-compose.yml has no certbot image"

# The certbot service shares nginx's process namespace, so `compose run certbot` needs nginx running.
# Before nginx can start, the letsencrypt volume is reached with a plain container of the same image.
in_letsencrypt_volume() {
  local volume
  volume="$(docker volume ls -q --filter label=com.docker.compose.project=headscale --filter label=com.docker.compose.volume=letsencrypt)"
  [ -n "$volume" ] || fail "the letsencrypt volume was not created"
  docker run --rm -v "$volume:/etc/letsencrypt" "$@"
}

echo "### Creating the stack's containers and volumes ..."
compose up --no-start --build

if in_letsencrypt_volume --entrypoint sh "$certbot_image" -c "[ -f /etc/letsencrypt/renewal/$lineage.conf ]"; then
  echo "A certificate for lineage '$lineage' already exists; the certbot service renews it. Nothing to do."
  exit 0
fi

echo "### Throwaway certificate for $domain so nginx can start ..."
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
openssl req -x509 -nodes -newkey rsa:2048 -days 1 -subj "/CN=$domain" \
  -keyout "$tmp/privkey.pem" -out "$tmp/fullchain.pem" 2>/dev/null
chmod 644 "$tmp"/*.pem
in_letsencrypt_volume -v "$tmp:/throwaway:ro" --entrypoint sh "$certbot_image" -c \
  "mkdir -p $live && cp /throwaway/fullchain.pem /throwaway/privkey.pem $live/"

echo "### Starting the stack (nginx answers the ACME challenge on port 80) ..."
compose up -d nginx

echo "### Removing the throwaway certificate ..."
compose run --rm --no-deps --entrypoint sh certbot -c \
  "rm -rf $live /etc/letsencrypt/archive/$lineage /etc/letsencrypt/renewal/$lineage.conf"

echo "### Requesting the certificate for $domain ..."
extra=()
[ "$staging" -eq 1 ] && extra+=(--staging)
compose run --rm --no-deps --entrypoint certbot certbot certonly \
  --webroot -w /var/www/certbot --cert-name "$lineage" -d "$domain" \
  --email "$email" --agree-tos --no-eff-email --non-interactive --key-type ecdsa "${extra[@]}"

echo "### Reloading nginx and starting certbot's renewal loop ..."
compose exec nginx nginx -c /etc/nginx/headscale/nginx.conf -s reload
compose up -d certbot
echo "Done: https://$domain is served with a Let's Encrypt certificate."
