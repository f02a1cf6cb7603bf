#!/usr/bin/env bash
# System packages beyond the Python venv, installed with apt-get when missing:
#   libs: libGL and GLib, which OpenCV needs (rapidocr, the OCR of scanned PDF pages, imports it);
#   all (the default): those, and Debian's Chromium for the real-browser UI test (Playwright drives it
#        through `executable_path`; no browser is ever downloaded).
# Idempotent: a quick no-op when everything is already installed. Needs root (or sudo) to install.
set -euo pipefail
what="${1:-all}"

has_lib() { ldconfig -p 2>/dev/null | grep -q "$1"; }

missing=()
has_lib "libGL.so.1" || missing+=(libgl1)
has_lib "libglib-2.0.so.0" || missing+=(libglib2.0-0)
if [[ $what == all ]]; then
    command -v chromium >/dev/null 2>&1 || [[ -x /usr/bin/chromium ]] || missing+=(chromium)
fi
((${#missing[@]})) || exit 0

sudo=""
if [[ $(id -u) -ne 0 ]]; then
    command -v sudo >/dev/null 2>&1 || { echo "need root to install: ${missing[*]}" >&2; exit 1; }
    sudo="sudo"
fi
echo "installing ${missing[*]} (apt-get)" >&2
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
