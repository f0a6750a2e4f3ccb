#!/usr/bin/env bash
# Installs the Debian packages Baton's tests and benchmarks need (Xvfb for the host's desktop,
# Debian's Chromium for browser tests, a colour emoji font for the reactions and chat it shows, X
# clients that tests draw with, xclip for the host clipboard, coturn, and Janus for the audio tests, baresip and sipp as telephones
# for the SIP dial-out tests, ffmpeg for recording exports, LibreOffice Impress to convert uploaded presentations to PDF). Safe to run again.
# Usage: scripts/system-deps.sh [--bench]   (--bench adds the reference systems x11vnc + noVNC)
set -euo pipefail
pkgs=(ffmpeg libreoffice-impress xvfb xdotool xclip x11-apps x11-utils x11-xserver-utils xterm chromium fonts-dejavu-core fonts-noto-color-emoji coturn janus baresip-core sip-tester)
if [ "${1:-}" = "--bench" ]; then pkgs+=(x11vnc novnc websockify); fi
missing=()
for p in "${pkgs[@]}"; do dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p"); done
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null && sudo -n true 2>/dev/null; then SUDO=sudo; else
    echo "baton: missing Debian packages: ${missing[*]} (run as root: apt-get install ${missing[*]})" >&2
    exit 1
  fi
else SUDO=""; fi
echo "baton: installing Debian packages: ${missing[*]}" >&2
$SUDO apt-get update -qq >&2
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
