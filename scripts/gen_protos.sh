#!/usr/bin/env bash
# Regenerates the Python code for every proto under protos/ into drafter/<svc>/v1/.
# Usage: scripts/gen_protos.sh [OUT_DIR]   (default: the repository root)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
out=${1:-$root}
cd "$root"
mapfile -t files < <(find protos -name '*.proto' | sort)
python -m grpc_tools.protoc -I protos \
  --python_out="$out" --pyi_out="$out" --grpc_python_out="$out" "${files[@]}"
# Generated directories are packages; the hand-written drafter/__init__.py already exists.
for f in "${files[@]}"; do
  dir=$(dirname "${f#protos/}")
  while [ "$dir" != "drafter" ] && [ "$dir" != "." ]; do
    touch "$out/$dir/__init__.py"
    dir=$(dirname "$dir")
  done
done
