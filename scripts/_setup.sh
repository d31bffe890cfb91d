# Shared steps of scripts/run.sh and scripts/test.sh (sourced, not run).
#
# Both scripts work in the project virtual environment .venv at the repository root: it is
# created when missing (or when it was made with another Python) and reused otherwise;
# packages are installed only when a requirements file changed (a hash of the files is kept
# in .venv). Nothing is installed into the system Python.
#
# Variables: PYTHON (the interpreter that creates .venv; default python3),
# IGMETA_VENV (default: .venv in the repository), BROWSER_PATH (Chromium for kaleido).

IGMETA_MIN_PYTHON="3.11"
IGMETA_VENV="${IGMETA_VENV:-$PWD/.venv}"
IGMETA_STEP=0

# step TOTAL MESSAGE: print "[n/TOTAL] MESSAGE".
step() {
  IGMETA_STEP=$((IGMETA_STEP + 1))
  echo "[$IGMETA_STEP/$1] $2"
}

fail() {
  echo "ERROR: $*" >&2
  exit 1
}

is_root() {
  [ "$(id -u)" = "0" ]
}

# apt_install PACKAGE...: install Debian packages (only called as root).
apt_install() {
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq || fail "apt-get update failed (no network?): could not install $*."
  apt-get install -y -qq --no-install-recommends "$@" >/dev/null \
    || fail "apt-get could not install $* (no network?)."
}

# check_python: PYTHON must exist and be 3.11 or newer.
check_python() {
  PYTHON="${PYTHON:-python3}"
  command -v "$PYTHON" >/dev/null 2>&1 || fail "no '$PYTHON' found on PATH. igmeta needs \
Python $IGMETA_MIN_PYTHON or newer: on Debian 12 / Ubuntu 24.04 run \
'sudo apt-get install -y python3 python3-venv', elsewhere install Python 3.11 \
(e.g. 'pyenv install 3.11') and rerun with PYTHON=/path/to/python3.11."
  local found
  found="$("$PYTHON" -c 'import sys; print("%d.%d.%d" % sys.version_info[:3])' 2>/dev/null)" \
    || fail "'$PYTHON' does not run."
  local major="${found%%.*}" rest="${found#*.}"
  local minor="${rest%%.*}"
  if [ "$major" -lt 3 ] || { [ "$major" -eq 3 ] && [ "$minor" -lt 11 ]; }; then
    fail "igmeta needs Python $IGMETA_MIN_PYTHON or newer, but '$PYTHON' is Python $found \
($(command -v "$PYTHON")). Install Python 3.11: on Debian 12 / Ubuntu 24.04 \
'sudo apt-get install -y python3 python3-venv'; on Ubuntu 22.04 \
'sudo apt-get install -y python3.11 python3.11-venv'; or 'pyenv install 3.11'. Then rerun \
with PYTHON=python3.11 bash $0 (or use Docker: see the README)."
  fi
  IGMETA_PYTHON_VERSION="$major.$minor"
  echo "      Python $found ($(command -v "$PYTHON"))"
}

# make_venv: create .venv with PYTHON unless a working one of the same Python exists.
make_venv() {
  local have=""
  if [ -x "$IGMETA_VENV/bin/python" ]; then
    have="$("$IGMETA_VENV/bin/python" -c 'import sys; print("%d.%d" % sys.version_info[:2])' \
      2>/dev/null || true)"
  fi
  if [ -n "$have" ] && [ "$have" = "$IGMETA_PYTHON_VERSION" ] \
    && "$IGMETA_VENV/bin/python" -m pip --version >/dev/null 2>&1; then
    echo "      reusing $IGMETA_VENV"
    return
  fi
  rm -rf "$IGMETA_VENV"
  local log
  log="$(mktemp)"
  if ! "$PYTHON" -m venv "$IGMETA_VENV" >"$log" 2>&1; then
    rm -rf "$IGMETA_VENV"
    # Debian/Ubuntu ship venv's pip bootstrap (ensurepip) separately, in python3-venv.
    local pkg="python$IGMETA_PYTHON_VERSION-venv"
    if is_root && command -v apt-get >/dev/null 2>&1; then
      echo "      '$PYTHON -m venv' failed; installing $pkg with apt-get"
      apt_install "$pkg"
      "$PYTHON" -m venv "$IGMETA_VENV" >"$log" 2>&1 || {
        cat "$log" >&2
        fail "'$PYTHON -m venv $IGMETA_VENV' failed even after installing $pkg."
      }
    else
      cat "$log" >&2
      fail "'$PYTHON -m venv' cannot create a virtual environment. On Debian/Ubuntu install \
the venv module with: sudo apt-get install -y $pkg  (then rerun $0)."
    fi
  fi
  rm -f "$log"
}

# requirement_files FILE: FILE and the files it includes with "-r", recursively.
requirement_files() {
  echo "$1"
  local included
  for included in $(sed -n 's/^-r[[:space:]]*//p' "$1"); do
    requirement_files "$(dirname "$1")/$included"
  done
}

# install_requirements FILE: pip install -r FILE into .venv when FILE (or a requirements
# file it includes) changed since the last successful install.
install_requirements() {
  local file="$1" stamp hash log
  stamp="$IGMETA_VENV/.igmeta-$(basename "$file" .txt).sha256"
  # shellcheck disable=SC2046
  hash="$(cat $(requirement_files "$file") | sha256sum | cut -d' ' -f1)"
  if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$hash" ]; then
    echo "      $file unchanged since the last install: nothing to do"
    return
  fi
  echo "      pip install -r $file (a few minutes the first time; later runs reuse pip's cache)"
  log="$IGMETA_VENV/pip-install.log"
  if ! "$IGMETA_VENV/bin/python" -m pip install --disable-pip-version-check \
    --progress-bar off -r "$file" >"$log" 2>&1; then
    tail -n 15 "$log" >&2
    if grep -qiE "NewConnectionError|Failed to establish|Name or service not known|\
Temporary failure in name resolution|Network is unreachable|ConnectTimeout|ReadTimeout|\
ProxyError|No matching distribution found|Could not find a version" "$log"; then
      fail "pip could not download the packages of $file: is there network access to PyPI \
(or a proxy: HTTPS_PROXY, PIP_INDEX_URL)? Connect and rerun $0. Full log: $log"
    fi
    fail "pip install -r $file failed (full log: $log)."
  fi
  echo "$hash" >"$stamp"
}

# find_chromium: set BROWSER_PATH to a Chromium (for kaleido); return 1 when there is none.
find_chromium() {
  if [ -n "${BROWSER_PATH:-}" ] && [ -x "$BROWSER_PATH" ]; then
    return 0
  fi
  local name path
  for name in chromium chromium-browser; do
    path="$(command -v "$name" 2>/dev/null || true)"
    if [ -n "$path" ]; then
      export BROWSER_PATH="$path"
      return 0
    fi
  done
  return 1
}
