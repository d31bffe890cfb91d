#!/usr/bin/env bash
# Install the dashboard's dependencies and start it on the bundled IG data.
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -m pip install -q --disable-pip-version-check -r requirements.txt
exec python3 -m streamlit run app.py --server.headless true "$@"
