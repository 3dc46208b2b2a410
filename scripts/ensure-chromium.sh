#!/usr/bin/env bash
# Make sure Debian's Chromium is at /usr/bin/chromium, with a CJK font so the portal's Chinese
# pages render in its screenshots, as the browser tests (tests/browser) need. Playwright
# drives this Chromium; `playwright install` is never used (it downloads from the network).
# Also jq and curl, which the documents' commands use (tests/test_documents_run.py runs them).
set -euo pipefail
CHROMIUM=/usr/bin/chromium
packages=()
command -v jq >/dev/null || packages+=(jq)
command -v curl >/dev/null || packages+=(curl)
[ -x "$CHROMIUM" ] || packages+=(chromium)
if ! command -v fc-list >/dev/null || [ -z "$(fc-list :lang=zh 2>/dev/null)" ]; then
  packages+=(fonts-noto-cjk)
fi
[ ${#packages[@]} -eq 0 ] && exit 0
echo "installing Debian's ${packages[*]} for the browser tests" >&2
SUDO=""
if [ "$(id -u)" != 0 ]; then SUDO=sudo; fi
$SUDO apt-get update -qq
$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${packages[@]}" >/dev/null
[ -x "$CHROMIUM" ] || { echo "error: $CHROMIUM is still missing after installing chromium" >&2; exit 1; }
