#!/usr/bin/env bash
# Debian's Prometheus server and promtool, for the rule tests, the real-Prometheus test and
# `make monitor`; installed when missing. The package's own service is not started here.
set -euo pipefail
if command -v prometheus >/dev/null 2>&1 && command -v promtool >/dev/null 2>&1; then
  exit 0
fi
apt-get update -qq
# policy-rc.d 101: install the package without starting its service (no init here, and not wanted).
if [ ! -e /usr/sbin/policy-rc.d ]; then
  printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
  chmod +x /usr/sbin/policy-rc.d
  trap 'rm -f /usr/sbin/policy-rc.d' EXIT
fi
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends prometheus >/dev/null
prometheus --version 2>&1 | sed -n 1p
