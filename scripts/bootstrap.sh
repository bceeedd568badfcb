#!/usr/bin/env bash
# Installs what just-ingredients needs on a fresh Debian machine, then syncs the venv.
#   scripts/bootstrap.sh          runtime needs (Tesseract with eng+fra data, Python venv)
#   scripts/bootstrap.sh --dev    also what the tests need (PostgreSQL server binaries, shellcheck)
# System packages are installed through apt only when missing and only when run as root;
# Python packages go into ./.venv, pinned by uv.lock.
set -euo pipefail
cd "$(dirname "$0")/.."

dev=0
[ "${1:-}" = "--dev" ] && dev=1

missing=()
have_tessdata() {
  for d in "${TESSDATA_PREFIX:-}" /usr/share/tesseract-ocr/5/tessdata /usr/share/tesseract-ocr/4.00/tessdata /usr/share/tessdata; do
    [ -n "$d" ] && [ -f "$d/eng.traineddata" ] && [ -f "$d/fra.traineddata" ] && return 0
  done
  return 1
}
have_tessdata || missing+=(tesseract-ocr tesseract-ocr-eng tesseract-ocr-fra)
# fraction recovery compares glyphs with fractions rendered in the DejaVu fonts
[ -f /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf ] || missing+=(fonts-dejavu-core)
command -v python3 >/dev/null || missing+=(python3)
python3 -c 'import venv, ensurepip' 2>/dev/null || missing+=(python3-venv)
if [ "$dev" = 1 ]; then
  if ! command -v initdb >/dev/null && ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
    missing+=(postgresql postgresql-contrib)
  fi
  # the deploy scripts' tests lint them with shellcheck
  command -v shellcheck >/dev/null || missing+=(shellcheck)
fi

if [ "${#missing[@]}" -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "bootstrap: installing ${missing[*]} with apt-get" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  else
    echo "bootstrap: please install these Debian packages first: ${missing[*]}" >&2
    exit 1
  fi
fi

# uv: use the one on PATH, else a private copy in ./.tools (pinned version).
UV_VERSION=0.13.9
if command -v uv >/dev/null; then
  UV=$(command -v uv)
else
  if [ ! -x .tools/bin/uv ]; then
    python3 -m venv .tools
    .tools/bin/pip install -q "uv==${UV_VERSION}"
  fi
  UV=$PWD/.tools/bin/uv
fi
export UV_PYTHON_DOWNLOADS=never
if [ "$dev" = 1 ]; then
  "$UV" sync --frozen --quiet
else
  "$UV" sync --frozen --quiet --no-dev --inexact
fi
echo "$UV"
