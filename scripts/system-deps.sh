#!/usr/bin/env bash
# System packages the test suite uses: a real Slurm (slurm-wlm, munge) for the executor tests
# and Chromium for the report test. Installed only when missing and only when we are root
# (CI is); otherwise the tests that need them skip and say why.
set -u
need=()
command -v slurmctld >/dev/null 2>&1 || need+=(slurm-wlm)
command -v munged >/dev/null 2>&1 || need+=(munge)
command -v chromium >/dev/null 2>&1 || need+=(chromium)
[ ${#need[@]} -eq 0 ] && exit 0
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "system-deps: not root or no apt-get; tests needing ${need[*]} will skip" >&2
  exit 0
fi
echo "system-deps: installing ${need[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >/dev/null && apt-get install -y -qq "${need[@]}" >/dev/null \
  || echo "system-deps: apt-get install ${need[*]} failed; those tests will skip" >&2
exit 0
