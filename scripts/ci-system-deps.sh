#!/usr/bin/env bash
# System packages the test suite needs beyond the Python venv: Debian's Chromium for the real-browser
# UI test (Playwright drives it through `executable_path`; no browser is ever downloaded).
# Idempotent: a quick no-op when everything is already installed. Needs root (or sudo) to install.
set -euo pipefail

missing=()
command -v chromium >/dev/null 2>&1 || [[ -x /usr/bin/chromium ]] || missing+=(chromium)
((${#missing[@]})) || exit 0

sudo=""
if [[ $(id -u) -ne 0 ]]; then
    command -v sudo >/dev/null 2>&1 || { echo "need root to install: ${missing[*]}" >&2; exit 1; }
    sudo="sudo"
fi
echo "installing ${missing[*]} (apt-get)" >&2
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
