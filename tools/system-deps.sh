#!/usr/bin/env bash
# Install the system programs imgkit's lab and tests use, when any is missing:
#   docker-registry (the CNCF Distribution registry), graphviz (dot),
#   skopeo and umoci (peers in the interop tests).
# Extra "package:command" arguments add more: `make test` asks for chromium
# (the browser tests drive Debian's Chromium with Playwright; no browser download).
# Uses apt-get (with sudo when not root); elsewhere it says what to install.
set -euo pipefail

need=()
command -v docker-registry >/dev/null 2>&1 || command -v registry >/dev/null 2>&1 || need+=(docker-registry)
command -v dot    >/dev/null 2>&1 || need+=(graphviz)
command -v skopeo >/dev/null 2>&1 || need+=(skopeo)
command -v umoci  >/dev/null 2>&1 || need+=(umoci)
for extra in "$@"; do
  # Extra Debian packages a target asks for, given as "package:command".
  pkg=${extra%%:*}; cmd=${extra#*:}
  command -v "$cmd" >/dev/null 2>&1 || need+=("$pkg")
done

[ ${#need[@]} -eq 0 ] && exit 0

if ! command -v apt-get >/dev/null 2>&1; then
  echo "imgkit needs: ${need[*]} (Debian/Ubuntu package names)." >&2
  echo "There is no apt-get here: install them with your system's package manager, then run make again." >&2
  exit 1
fi
sudo=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null 2>&1 || { echo "installing ${need[*]} needs root; sudo is missing" >&2; exit 1; }
  sudo=sudo
fi
echo "Installing system packages: ${need[*]}"
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${need[@]}"
