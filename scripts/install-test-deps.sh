#!/usr/bin/env bash
# What the tests need beyond cargo: Debian's Chromium (the HTML report's render test), and the
# toolchains of the Python and JavaScript suites: componentize-py in a venv under target/,
# jco + componentize-js in testcases/js/node_modules (versions pinned; npm ci from the lock).
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v chromium >/dev/null 2>&1; then
  export DEBIAN_FRONTEND=noninteractive
  sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get install -y --no-install-recommends chromium >/dev/null \
    || { $sudo apt-get update >/dev/null && $sudo apt-get install -y --no-install-recommends chromium >/dev/null; }
fi
chromium --version
py=target/guest-tools/py
if ! "$py/bin/componentize-py" --version 2>/dev/null | grep -q "0.25"; then
  python3 -m venv "$py"
  "$py/bin/pip" install --quiet --disable-pip-version-check "componentize-py==0.25.1"
fi
"$py/bin/componentize-py" --version
# Again whenever the lock changed since the last install.
if ! cmp -s testcases/js/package-lock.json testcases/js/node_modules/.package-lock.json.installed; then
  npm ci --prefix testcases/js --no-audit --no-fund --loglevel=error
  cp testcases/js/package-lock.json testcases/js/node_modules/.package-lock.json.installed
fi
node -e "console.log('componentize-js', require('./testcases/js/node_modules/@bytecodealliance/componentize-js/package.json').version)"
