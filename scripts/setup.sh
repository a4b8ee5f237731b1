#!/usr/bin/env bash
# Idempotent set-up: Debian packages, the virtual environment and the Python packages.
# Usage: scripts/setup.sh [--test]   (--test adds packages-test.txt and requirements-dev.txt)
set -euo pipefail
cd "$(dirname "$0")/.."
want_test=0
[ "${1:-}" = "--test" ] && want_test=1

debs=$(grep -hv '^\s*#' packages.txt | xargs)
[ $want_test = 1 ] && debs="$debs $(grep -hv '^\s*#' packages-test.txt | xargs)"
missing=""
for pkg in $debs; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing="$missing $pkg"
done
if [ -n "$missing" ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "Installing Debian packages:$missing"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing >/dev/null
  else
    echo "Missing Debian packages:$missing"
    echo "Install them first:  sudo apt-get install -y$missing"
    exit 1
  fi
fi

reqs="requirements.txt requirements-nodeps.txt pyproject.toml"
[ $want_test = 1 ] && reqs="$reqs requirements-dev.txt"
key=$(cat $reqs | sha256sum | cut -c1-16)
stamp=".venv/.setup-stamp-$want_test"
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$key" ]; then
  exit 0
fi
[ -x .venv/bin/python ] || python3 -m venv .venv
pip=".venv/bin/python -m pip"
$pip install -q --upgrade pip
# torch/torchvision are pinned in requirements.txt, so pip never resolves another torch.
if [ $want_test = 1 ]; then
  $pip install -q -r requirements.txt -r requirements-dev.txt
else
  $pip install -q -r requirements.txt
fi
$pip install -q --no-deps -r requirements-nodeps.txt
$pip install -q --no-deps -e .
echo "$key" > "$stamp"
echo "Set-up complete (.venv)."
