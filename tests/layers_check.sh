#!/bin/sh
# The runtime layer (src/runtime) is below the diagnostics (src/diag) and the packages
# (src/pkg): none of its files may include theirs. The build already refuses such an include
# (src/ is not on the runtime's include path); this check holds even if someone adds it.
# Usage: layers_check.sh <source dir>
set -eu
src="$1/src/runtime"
bad=$(grep -rnE '^[[:space:]]*#[[:space:]]*include[[:space:]]*[<"]([^">]*/)?(diag|pkg)/' "$src" || true)
if [ -n "$bad" ]; then
  echo "src/runtime includes headers of a layer above it (src/diag, src/pkg):" >&2
  echo "$bad" >&2
  exit 1
fi
echo "src/runtime includes nothing from src/diag or src/pkg"
