#!/usr/bin/env bash
# Installs the Debian packages some tests need (a real browser, a real database server)
# when they are missing. Called by `make test`; a no-op when everything is present.
# Each line of tests/system_packages.txt: <command that must exist> <debian package>.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
missing=()
while read -r cmd pkg; do
  [[ -z "${cmd:-}" || "$cmd" == \#* ]] && continue
  command -v "$cmd" >/dev/null 2>&1 || missing+=("$pkg")
done < "$here/system_packages.txt"
[[ ${#missing[@]} -eq 0 ]] && exit 0
if [[ $(id -u) -ne 0 ]]; then
  echo "error: tests need the Debian packages: ${missing[*]} (run as root, or: sudo apt-get install -y ${missing[*]})" >&2
  exit 1
fi
echo "installing Debian packages for the tests: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >/dev/null
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
