#!/usr/bin/env bash
# Installs the real servers the test suite runs against (Debian packages), or says exactly what
# to install when not root. Never lets a test skip silently for want of a binary.
set -euo pipefail

# binary -> Debian package
declare -A NEED=(
  [/usr/lib/postgresql/15/bin/postgres]=postgresql
  [/usr/sbin/mariadbd]=mariadb-server
  [/usr/bin/redis-server]=redis-server
  [/usr/bin/prometheus]=prometheus
  [/usr/bin/promtool]=prometheus
  [/usr/bin/prometheus-alertmanager]=prometheus-alertmanager
  [/usr/bin/amtool]=prometheus-alertmanager
  [/usr/bin/prometheus-blackbox-exporter]=prometheus-blackbox-exporter
  [/usr/bin/chromium]=chromium
  [/usr/bin/wrk]=wrk
  [/usr/bin/openssl]=openssl
  [/usr/bin/ping]=iputils-ping
)

missing=()
for bin in "${!NEED[@]}"; do
  # postgres may come as another major version; accept any.
  if [[ $bin == */postgresql/15/* ]]; then
    compgen -G '/usr/lib/postgresql/*/bin/postgres' >/dev/null && continue
  fi
  [[ -x $bin ]] || missing+=("${NEED[$bin]}")
done
mapfile -t missing < <(printf '%s\n' "${missing[@]}" | sort -u | sed '/^$/d')

if ((${#missing[@]})); then
  if [[ $(id -u) -eq 0 ]] && command -v apt-get >/dev/null; then
    echo "tests/support/setup.sh: installing ${missing[*]}" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >/dev/null
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
    # Debian starts the daemons it installs; tests run their own on random ports, so stop those.
    for svc in postgresql mariadb redis-server prometheus prometheus-alertmanager prometheus-blackbox-exporter prometheus-node-exporter; do
      (command -v service >/dev/null && service "$svc" stop >/dev/null 2>&1) || true
    done
  else
    echo "tests/support/setup.sh: missing Debian packages: ${missing[*]}" >&2
    echo "install them with: sudo apt-get install -y ${missing[*]}" >&2
    exit 1
  fi
fi
