#!/usr/bin/env bash
# Installs what the real-container tests need on a Debian 12 machine (root).
# Idempotent and quick when already installed; does not start anything:
# tests start their own containerd (see containerd.ts). The Debian package
# does not start a daemon here either, as these machines have no systemd.
# docker-registry (distribution 2.8) is for the pull tests: they start their
# own registry process on loopback (registry.ts), never the packaged service.
set -euo pipefail

pkgs=(containerd runc containernetworking-plugins busybox-static iproute2 curl docker-registry)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ "${#missing[@]}" -eq 0 ]; then
  echo "real-container prerequisites already installed"
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "need root to install: ${missing[*]}" >&2
  exit 1
fi
echo "installing: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
runc --version | head -1
containerd --version
docker-registry --version
