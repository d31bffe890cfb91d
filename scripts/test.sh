#!/usr/bin/env bash
# Install everything the tests need, then run ruff and the whole test suite (README "Two
# commands"; .ci/run calls exactly this). Extra arguments go to pytest:
#
#   bash scripts/test.sh                       # everything
#   bash scripts/test.sh tests/test_oracle.py  # one file
#   bash scripts/test.sh -m "not browser"      # see tests/README.md
#   bash scripts/test.sh -n 0                  # serially (default: parallel, pytest-xdist)
#
# Creates (or reuses) the project virtual environment .venv and installs
# requirements-dev.txt into it when that changed. Debian packages (chromium for the browser
# tests and figure export, R + metafor for the R-script tests, postgresql for the store
# tests' throwaway server, nginx for the deployment's load balancer) are installed with apt-get
# when running as root (as CI does); otherwise the script says what to install.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/_setup.sh
source scripts/_setup.sh

step 5 "checking Python (igmeta needs $IGMETA_MIN_PYTHON or newer)"
check_python
step 5 "creating $IGMETA_VENV (the project virtual environment)"
make_venv
step 5 "installing the test requirements (requirements-dev.txt)"
install_requirements requirements-dev.txt
step 5 "checking Debian packages: chromium, R with metafor and clubSandwich, PostgreSQL, nginx"
need_apt=()
find_chromium || need_apt+=(chromium)
command -v Rscript >/dev/null 2>&1 || need_apt+=(r-base-core)
Rscript -e 'library(metafor)' >/dev/null 2>&1 || need_apt+=(r-cran-metafor r-cran-metadat)
# clubSandwich: the exported R script's robust(..., clubSandwich = TRUE) (CR2 tests)
Rscript -e 'library(clubSandwich)' >/dev/null 2>&1 || need_apt+=(r-cran-clubsandwich)
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || need_apt+=(postgresql)
command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || need_apt+=(nginx)
if [ ${#need_apt[@]} -gt 0 ]; then
  if is_root && command -v apt-get >/dev/null 2>&1; then
    echo "      installing with apt-get: ${need_apt[*]}"
    apt_install "${need_apt[@]}"
  else
    fail "the tests need Debian packages that are missing: ${need_apt[*]} (chromium drives \
the browser tests and figure export; R + metafor run the exported R scripts). Install them \
with: sudo apt-get install -y ${need_apt[*]}  (or run this script as root; postgresql: the \
store tests start a throwaway server; nginx: the deployment's load balancer is tested)."
  fi
fi
find_chromium || fail "chromium was installed but is not on PATH."
export IGMETA_CHROMIUM="${IGMETA_CHROMIUM:-$BROWSER_PATH}"  # the browser tests' Chromium
echo "      $IGMETA_CHROMIUM; $(Rscript --version 2>&1 | head -n 1)"

step 5 "ruff, then pytest (progress per file; see tests/README.md)"
"$IGMETA_VENV/bin/python" -m ruff check .
"$IGMETA_VENV/bin/python" -m ruff format --check .
exec "$IGMETA_VENV/bin/python" -m pytest -p no:cacheprovider "$@"
