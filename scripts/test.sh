#!/usr/bin/env bash
# Installs what the tests need, starts PostgreSQL and Redis when they are not running,
# checks the contracts and the code style, then runs the whole test suite.
# Usage: scripts/test.sh [pytest args...]
set -euo pipefail
cd "$(dirname "$0")/.."

log() { printf '\n== %s\n' "$*"; }
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

apt_updated=
apt_install() {
  local missing=()
  for pkg in "$@"; do dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg"); done
  [ ${#missing[@]} -eq 0 ] && return 0
  if [ -z "$apt_updated" ]; then as_root apt-get update -q >/dev/null; apt_updated=1; fi
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}" >/dev/null
}

log "system packages"
apt_install docker-compose postgresql-client redis-tools chromium

log "PostgreSQL and Redis"
if ! pg_isready -q -h 127.0.0.1 -p 5432; then
  command -v pg_ctlcluster >/dev/null || apt_install postgresql
  version=$(ls /etc/postgresql | sort -V | tail -n 1)
  as_root pg_ctlcluster --skip-systemctl-redirect "$version" main start
  for _ in $(seq 30); do pg_isready -q -h 127.0.0.1 -p 5432 && break; sleep 1; done
fi
if ! redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1; then
  command -v redis-server >/dev/null || apt_install redis-server
  as_root mkdir -p /var/lib/redis /var/log/redis
  as_root redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" \
    --appendonly no --dir /var/lib/redis --logfile /var/log/redis/ci.log
  for _ in $(seq 30); do redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1 && break; sleep 1; done
fi
pg_isready -h 127.0.0.1 -p 5432
redis-cli -h 127.0.0.1 -p 6379 ping

log "Python packages"
python3 -m pip install -q --disable-pip-version-check -e ".[dev]"

log "Node.js clients"
# the pinned Node clients the tests drive (tests/clients/package-lock.json), installed again
# only when the lockfile changed: its hash is kept inside node_modules
lock_hash=$(sha256sum tests/clients/package-lock.json | cut -d ' ' -f 1)
lock_stamp=tests/clients/node_modules/.package-lock.sha256
if ! command -v npm >/dev/null; then
  [ -n "${CI:-}" ] && { echo "npm is required on CI (Node.js 20+, for tests/clients)" >&2; exit 1; }
  echo "npm not found: the Node.js client tests will be skipped"
elif [ "$(cat "$lock_stamp" 2>/dev/null)" = "$lock_hash" ]; then
  echo "up to date"
else
  (cd tests/clients && npm ci --no-audit --no-fund --loglevel=error)
  echo "$lock_hash" >"$lock_stamp"
fi

log "ruff"
ruff check .
ruff format --check .

log "deptry"
# runtime imports are declared runtime dependencies ([tool.deptry] in pyproject.toml); only
# the package's own sources are scanned (drafter/, and edge/ and services/ it links to), not
# whatever else is in the checkout, such as a virtualenv of any name
deptry drafter edge services

log "import contracts"
# the architecture: edge and services independent, the kernel imports neither
lint-imports

log "mypy"
mypy drafter

log "Kubernetes manifests"
# each overlay rendered by kubectl's kustomize, validated offline against the schemas of
# the oldest Kubernetes with gRPC probes and of the newest kubernetes-validate carries
if ! command -v kubectl >/dev/null; then
  [ -n "${CI:-}" ] && { echo "kubectl (1.27+, with kustomize) is required on CI" >&2; exit 1; }
  echo "kubectl not found: the manifests are not rendered (tests/deploy is skipped)"
else for overlay in deploy/kubernetes/overlays/*/; do
  rendered=$(mktemp)
  kubectl kustomize "$overlay" >"$rendered"
  for version in 1.27.0 1.37.0; do
    kubernetes-validate --strict --quiet -k "$version" "$rendered"
  done
  rm -f "$rendered"
  echo "$overlay: valid"
done; fi

log "pytest"
python3 -m pytest "$@"
