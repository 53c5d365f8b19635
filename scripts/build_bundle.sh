#!/usr/bin/env bash
# Build the one-folder app bundle from a clean virtual environment, run the bundle's
# self-test, check its size against the budget, and clean up.
#
#   bash scripts/build_bundle.sh [--cuda] [--dist DIR] [--archive DIR] [--keep] [--out DIR] [--startup]
#                                [--screenshot FILE]
#
# By default it builds the CPU bundle: on Linux PyPI's torch is a CUDA build, and build.spec
# (STUDIO_BUNDLE_CPU=1) leaves its NVIDIA libraries out and puts stubs in their place
# (packaging/cuda_stubs.py; needs a C compiler); on Windows and macOS PyPI's torch has no
# NVIDIA libraries and the flag changes nothing.
#
#   --cuda             keep the NVIDIA libraries (Linux): the bundle that trains on NVIDIA GPUs
#   --dist DIR         move the finished bundle (GenerativeStudio/ or GenerativeStudio.app) into DIR
#                      when it passed; without it the bundle is deleted with the work folder
#   --archive DIR      also pack the passed bundle into DIR as the download (.tar.gz on Linux,
#                      .zip on Windows and macOS; the name from packaging/platforms.py)
#   --keep             keep the work folder (venv, build, dist) and print where it is
#   --out DIR          copy the finished bundle's self-test report (and the other outputs) to DIR
#   --startup          also time cold and warm start-up of the bundle and from source
#                      (packaging/startup_time.py; under Xvfb when it is installed)
#   --screenshot FILE  also open the bundle under Xvfb with the real xcb platform plugin and
#                      save a screenshot of the screen to FILE (Debian: xvfb x11-utils scrot)
#
# Environment: PYTHON (default python3) makes the venv; STUDIO_BUNDLE_PIP_ARGS are extra pip
# arguments (e.g. "--index-url https://download.pytorch.org/whl/cpu" for a CPU-only bundle);
# STUDIO_BUNDLE_WORK is the work folder (default: a new one in $TMPDIR);
# STUDIO_BUNDLE_BUDGET_MB overrides the size budget.
#
# Size budget (the bundle folder, or the .app; packaging/platforms.py BUDGET_MB): 5,000 MB for
# the CUDA bundle (measured 4,583 MB with torch 2.14.1+cu130: NVIDIA libraries 2.9 GB, torch
# 1.0 GB, ffmpeg 0.17 GB), 1,200 MB for the CPU bundle (measured 1,153 MB; made from the CUDA
# torch with stubs, or from a CPU torch).
# A bundle over budget fails: something big slipped in.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
PYTHON=${PYTHON:-python3}
NICE="nice -n 5"
command -v nice >/dev/null 2>&1 || NICE=""
KEEP=0 OUT="" STARTUP=0 SHOT="" DIST="" ARCHIVE="" CUDA=0
while [ $# -gt 0 ]; do
  case "$1" in
    --cuda) CUDA=1 ;;
    --archive) ARCHIVE=$(mkdir -p "$2" && cd "$2" && pwd); shift ;;
    --keep) KEEP=1 ;;
    --dist) DIST=$(mkdir -p "$2" && cd "$2" && pwd); shift ;;
    --out) OUT=$(mkdir -p "$2" && cd "$2" && pwd); shift ;;
    --startup) STARTUP=1 ;;
    --screenshot) SHOT=$(cd "$(dirname "$2")" && pwd)/$(basename "$2"); shift ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "build_bundle.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
  shift
done

WORK=${STUDIO_BUNDLE_WORK:-$(mktemp -d "${TMPDIR:-/tmp}/studio-bundle.XXXXXX")}
mkdir -p "$WORK"
cleanup() {
  if [ "$KEEP" = 1 ]; then echo "kept the work folder: $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT

# a CUDA build needs ~11 GB while it builds (venv 6 GB + bundle 4 GB + work files); the CPU
# one ~8 GB on Linux (the venv still holds the CUDA torch it is made from)
need_mb=$([ "$CUDA" = 1 ] && echo 12000 || echo 8000)
free_mb=$(df -Pm "$WORK" | awk 'NR==2 {print $4}')
if [ "${free_mb:-0}" -lt "$need_mb" ]; then
  echo "build_bundle.sh: only ${free_mb} MB free in $WORK; this bundle build needs about $need_mb MB (set STUDIO_BUNDLE_WORK to a roomier disk)" >&2
  exit 1
fi
if [ "$CUDA" = 1 ]; then export STUDIO_BUNDLE_CPU=0; else export STUDIO_BUNDLE_CPU=1; fi

seconds() { date +%s; }
t0=$(seconds)
echo "== clean venv in $WORK/venv"
"$PYTHON" -m venv "$WORK/venv"
VPY="$WORK/venv/bin/python"
[ -x "$VPY" ] || VPY="$WORK/venv/Scripts/python.exe"  # Windows (Git Bash)
# quiet unless something fails; pip prints warnings about absent local indexes on some machines
$NICE "$VPY" -m pip install --disable-pip-version-check -q ${STUDIO_BUNDLE_PIP_ARGS:-} -e "$ROOT[bundle]" \
  2> >(grep -v "^WARNING: Location" >&2)
TORCH=$("$VPY" -c "import torch; print(f'torch {torch.__version__}', 'CUDA' if torch.version.cuda else 'CPU')")
TORCH_CUDA=$("$VPY" -c "import torch; print(torch.version.cuda or '')")
CPU_ONLY=$("$VPY" packaging/platforms.py cpu-only "$TORCH_CUDA")
budget=$("$VPY" packaging/platforms.py budget "$TORCH_CUDA" "$CPU_ONLY")
KIND=$([ "$CPU_ONLY" = 1 ] && echo "CPU bundle from $TORCH (NVIDIA libraries left out)" || echo "$TORCH")
t1=$(seconds)
echo "   $TORCH ($((t1 - t0)) s)"

echo "== pyinstaller build.spec"
$NICE "$VPY" -m PyInstaller --noconfirm --clean --log-level WARN --distpath "$WORK/dist" --workpath "$WORK/build" \
  build.spec > "$WORK/pyinstaller.log" 2>&1 || { tail -40 "$WORK/pyinstaller.log" >&2; exit 1; }
rm -rf "$WORK/build"
# the layout per system (GenerativeStudio/GenerativeStudio[.exe], GenerativeStudio.app/...)
CUDA_FLAG=$([ -n "$TORCH_CUDA" ] && [ "$CPU_ONLY" = 0 ] && echo --cuda || true)
BUNDLE="$WORK/dist/$("$VPY" packaging/platforms.py bundle)"
APP="$WORK/dist/$("$VPY" packaging/platforms.py executable)"
ARCHIVE_NAME=$("$VPY" packaging/platforms.py archive $CUDA_FLAG)
[ -x "$APP" ] || { echo "build_bundle.sh: PyInstaller made no $APP" >&2; exit 1; }
t2=$(seconds)
size_mb=$(du -sm "$BUNDLE" | cut -f1)
echo "   $BUNDLE: ${size_mb} MB ($((t2 - t1)) s)"
# Windows: the deepest file must stay under MAX_PATH once unpacked under a user's folder
room_status=0
room=$("$VPY" packaging/platforms.py room "$BUNDLE") || room_status=$?
echo "   Windows paths: $room"
case "$(uname -s)" in MINGW*|MSYS*|CYGWIN*) ;; *) room_status=0 ;; esac

echo "== the bundle's self-test"
status=0
$NICE "$APP" --selftest --report "$WORK/report" || status=$?
t3=$(seconds)

if [ "$STARTUP" = 1 ] || [ -n "$SHOT" ]; then
  XVFB=""
  if command -v Xvfb >/dev/null 2>&1; then
    Xvfb :97 -screen 0 1600x1000x24 -nolisten tcp >/dev/null 2>&1 &
    XVFB=$!
    trap 'kill $XVFB 2>/dev/null || true; cleanup' EXIT
    sleep 1
    export DISPLAY=:97 QT_QPA_PLATFORM=xcb
  elif [ -n "$SHOT" ]; then
    echo "build_bundle.sh: --screenshot needs Xvfb (apt-get install xvfb x11-utils scrot)" >&2; exit 1
  fi
  if [ "$STARTUP" = 1 ]; then
    echo "== start-up: the bundle (${QT_QPA_PLATFORM:-offscreen})"
    "$VPY" packaging/startup_time.py --evict "$BUNDLE" -- "$APP" | tee "$WORK/report/startup-bundle.txt"
    echo "== start-up: from source, same venv"
    site=$("$VPY" -c "import sysconfig; print(sysconfig.get_paths()['purelib'])")
    "$VPY" packaging/startup_time.py --evict "$site" --evict "$ROOT/studio" -- "$VPY" -m studio \
      | tee "$WORK/report/startup-source.txt"
  fi
  if [ -n "$SHOT" ]; then
    echo "== screenshot under Xvfb ($QT_QPA_PLATFORM)"
    shots=$(mktemp -d "${TMPDIR:-/tmp}/studio-shot.XXXXXX")
    STUDIO_RUNS_DIR="$shots/runs" XDG_CONFIG_HOME="$shots/config" "$APP" > "$WORK/report/xvfb-app.log" 2>&1 &
    app_pid=$!
    for _ in $(seq 1 180); do  # wait for the main window: the one at least 800 px wide (not the splash)
      if xwininfo -root -tree 2>/dev/null | grep '"Generative Studio"' \
         | grep -Eq ' ([89][0-9]{2}|[1-9][0-9]{3})x[0-9]+\+'; then break; fi
      sleep 1
    done
    sleep 5  # let the first page settle
    scrot --overwrite "$SHOT"
    kill "$app_pid" 2>/dev/null || true
    wait "$app_pid" 2>/dev/null || true
    rm -rf "$shots"
    echo "   wrote $SHOT"
  fi
  [ -n "$XVFB" ] && kill "$XVFB" 2>/dev/null || true
fi

[ -n "$OUT" ] && cp -r "$WORK/report/." "$OUT/" && cp "$WORK/pyinstaller.log" "$OUT/"
echo "== summary: $KIND; venv $((t1 - t0)) s, build $((t2 - t1)) s, self-test $((t3 - t2)) s; bundle ${size_mb} MB (budget ${budget} MB)"
if [ "$status" != 0 ]; then
  echo "build_bundle.sh: the bundle's self-test failed (exit $status); see the lines above" >&2
  exit 1
fi
if [ "$room_status" != 0 ]; then
  echo "build_bundle.sh: a file of the bundle is too deep for Windows' 260-character paths under an ordinary folder ($room)" >&2
  exit 1
fi
if [ "$size_mb" -gt "$budget" ]; then
  echo "build_bundle.sh: the bundle is ${size_mb} MB, over its ${budget} MB budget; look for what slipped in with 'du -sm $BUNDLE/_internal/*' (--keep)" >&2
  exit 1
fi
if [ -n "$ARCHIVE" ]; then
  case "$ARCHIVE_NAME" in
    *.tar.gz) tar -C "$(dirname "$BUNDLE")" -czf "$ARCHIVE/$ARCHIVE_NAME" "$(basename "$BUNDLE")" ;;
    # macOS: ditto keeps the .app's symlinks and extended attributes (its signature lives in them)
    *.zip) if [ "$(uname -s)" = Darwin ]; then
             ditto -c -k --keepParent "$BUNDLE" "$ARCHIVE/$ARCHIVE_NAME"
           else "$VPY" -c "import shutil, sys; shutil.make_archive(sys.argv[1], 'zip', sys.argv[2], sys.argv[3])" \
             "$ARCHIVE/${ARCHIVE_NAME%.zip}" "$(dirname "$BUNDLE")" "$(basename "$BUNDLE")"; fi ;;
  esac
  echo "the download: $ARCHIVE/$ARCHIVE_NAME ($(du -sm "$ARCHIVE/$ARCHIVE_NAME" | cut -f1) MB)"
fi
if [ -n "$DIST" ]; then
  rm -rf "${DIST:?}/$(basename "$BUNDLE")"
  mv "$BUNDLE" "$DIST/"
  echo "the bundle: $DIST/$(basename "$BUNDLE")"
fi
echo "bundle OK"
