#!/usr/bin/env bash
# Start the dashboard on the bundled IG data: http://localhost:8501 (README "Two commands").
#
#   bash scripts/run.sh            # port 8501
#   bash scripts/run.sh 8600       # another port
#   bash scripts/run.sh 8600 --server.address=0.0.0.0   # further arguments go to streamlit
#
# Creates (or reuses) the project virtual environment .venv, installs requirements.txt into
# it when that changed, makes sure PNG/SVG/PDF export has a Chromium, then starts Streamlit.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/_setup.sh
source scripts/_setup.sh

port=8501
if [ $# -gt 0 ] && [[ "$1" =~ ^[0-9]+$ ]]; then
  port="$1"
  shift
fi

step 4 "checking Python (igmeta needs $IGMETA_MIN_PYTHON or newer)"
check_python
step 4 "creating $IGMETA_VENV (the project virtual environment)"
make_venv
step 4 "installing the dashboard's Python packages (requirements.txt)"
install_requirements requirements.txt
step 4 "checking Chromium for PNG/SVG/PDF export"
if ! find_chromium; then
  if is_root && command -v apt-get >/dev/null 2>&1; then
    echo "      installing Debian's chromium with apt-get"
    apt_install chromium
    find_chromium || echo "WARNING: chromium was installed but not found on PATH." >&2
  fi
fi
if [ -n "${BROWSER_PATH:-}" ] && [ -x "$BROWSER_PATH" ]; then
  echo "      $BROWSER_PATH"
else
  echo "WARNING: no Chromium found: PNG/SVG/PDF export is off until it is installed" \
    "(Debian: sudo apt-get install -y chromium; or set BROWSER_PATH=/path/to/chromium)." \
    "Everything else works." >&2
fi

echo "Starting igmeta on http://localhost:$port (Ctrl+C stops it)"
exec "$IGMETA_VENV/bin/python" scripts/serve.py --server.headless=true \
  --server.port="$port" "$@"
