#!/usr/bin/env bash
# Installs what the end-to-end tests need, once, into a cache folder:
# a MinIO server built from source with go install, the AWS CLI and tmux
# from Debian's packages. Safe to run again: it skips what is present.
set -euo pipefail
tools="${DRCONSOLE_TOOLS:-${XDG_CACHE_HOME:-$HOME/.cache}/drconsole-tools}"
mkdir -p "$tools/bin"

if [ ! -x "$tools/bin/minio" ]; then
  echo "test-deps: building MinIO into $tools/bin (first run only)"
  GOBIN="$tools/bin" GOFLAGS=-buildvcs=false go install github.com/minio/minio@v0.0.0-20260212201848-7aac2a2c5b7c
fi

need=()
[ -x /usr/bin/aws ] || need+=(awscli)
command -v tmux >/dev/null 2>&1 || need+=(tmux)
if [ ${#need[@]} -gt 0 ]; then
  echo "test-deps: installing ${need[*]} from Debian's packages"
  sudo_cmd=()
  [ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)
  "${sudo_cmd[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq "${need[@]}" >/dev/null
fi
