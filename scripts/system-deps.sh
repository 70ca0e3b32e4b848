#!/usr/bin/env bash
# System packages the test suite uses: a real Slurm (slurm-wlm, munge) for the executor tests
# and Chromium for the report test. Installed only when missing and only when we are root.
# On a developer's machine a failure only warns (those tests then skip and say why); under
# CI=true it fails, so a green CI run always ran them (their fixtures fail, too, under CI).
set -u
in_ci() { case "${CI:-}" in 1|true|TRUE|True|yes) return 0;; *) return 1;; esac; }
give_up() {
  echo "system-deps: $1" >&2
  if in_ci; then echo "system-deps: CI=true, so this is an error" >&2; exit 1; fi
  exit 0
}
need=()
command -v slurmctld >/dev/null 2>&1 || need+=(slurm-wlm)
command -v munged >/dev/null 2>&1 || need+=(munge)
command -v chromium >/dev/null 2>&1 || need+=(chromium)
[ ${#need[@]} -eq 0 ] && exit 0
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
  give_up "not root or no apt-get; tests needing ${need[*]} will skip"
fi
echo "system-deps: installing ${need[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >/dev/null && apt-get install -y -qq "${need[@]}" >/dev/null \
  || give_up "apt-get install ${need[*]} failed; those tests will skip"
exit 0
