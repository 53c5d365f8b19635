#!/usr/bin/env bash
# Set up Generative Studio from nothing: system libraries a Qt app needs (Debian/Ubuntu,
# when run as root), a virtual environment in .venv, and the package with its test extras.
# Safe to run again: it only installs what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}

QT_LIBS="libgl1 libegl1 libxkbcommon0 libxkbcommon-x11-0 libfontconfig1 libdbus-1-3 libglib2.0-0 \
libxcb-cursor0 libxcb-icccm4 libxcb-keysyms1 libxcb-shape0 libxcb-render-util0 libxcb-image0 \
libxcb-randr0 libxcb-xinerama0 libxcb-xfixes0 fonts-dejavu-core"
if command -v apt-get >/dev/null 2>&1 && command -v dpkg >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
  missing=""
  for pkg in $QT_LIBS; do dpkg -s "$pkg" >/dev/null 2>&1 || missing="$missing $pkg"; done
  if [ -n "$missing" ]; then
    echo "installing system libraries:$missing"
    { apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $missing >/dev/null; } \
      || echo "warning: could not install$missing; the window may not start (the command line still works)" >&2
  fi
fi

if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi
# quiet unless something fails; pip prints warnings about absent local indexes on some machines
.venv/bin/python -m pip install --disable-pip-version-check -q -e ".[test]" 2> >(grep -v "^WARNING: Location" >&2)
