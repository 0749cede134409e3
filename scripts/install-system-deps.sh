#!/usr/bin/env bash
# Installs the Debian packages the test suite runs for real, when they are missing:
# python3-torch (CPU trainer), chromium (HTML report check, the dashboard's browser test), slurm-wlm + munge
# (Slurm runner), postgresql (the ledger in PostgreSQL: a throwaway cluster per test file, started from its
# binaries), prometheus (a real Prometheus scraping frugal server's /metrics; promtool checks the alert rules).
# Needs root (or sudo) and Debian's package archive; does nothing when all are present.
set -euo pipefail
need=()
/usr/bin/python3 -c 'import torch' 2>/dev/null || need+=(python3-torch)
command -v chromium >/dev/null || need+=(chromium)
command -v slurmctld >/dev/null || need+=(slurm-wlm)
command -v munged >/dev/null || need+=(munge)
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || need+=(postgresql)
command -v prometheus >/dev/null && command -v promtool >/dev/null || need+=(prometheus)
[ ${#need[@]} -eq 0 ] && exit 0
sudo=""
[ "$(id -u)" = "0" ] || sudo="sudo"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
echo "installed: ${need[*]}"
