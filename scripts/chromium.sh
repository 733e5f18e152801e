#!/usr/bin/env bash
# Debian's Chromium, for the try-it page's browser test (driven by playwright-core from npm);
# installed when missing.
set -euo pipefail
if command -v chromium >/dev/null 2>&1; then
  exit 0
fi
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium fonts-dejavu-core >/dev/null
chromium --version 2>/dev/null | sed -n 1p
