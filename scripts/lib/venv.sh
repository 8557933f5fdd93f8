# Sourced by scripts/start, scripts/test and .ci/run: find Python 3.11+, keep .venv
# installed and current. Installing runs again only when pyproject.toml changes.

fail() {
    echo >&2
    echo "ERROR: $*" >&2
    exit 1
}

python_is_new_enough() {
    "$1" -c 'import sys; sys.exit(sys.version_info < (3, 11))' >/dev/null 2>&1
}

find_python() {
    local candidate
    for candidate in ${PYTHON:-} python3.13 python3.12 python3.11 python3 python; do
        if command -v "$candidate" >/dev/null 2>&1 && python_is_new_enough "$candidate"; then
            command -v "$candidate"
            return 0
        fi
    done
    fail "Jiayuan needs Python 3.11 or newer, and none was found on PATH.
       Install it (Debian/Ubuntu: apt-get install python3 python3-venv) or point to one
       with PYTHON=/path/to/python3.11 $0"
}

# ensure_venv [test]: create .venv if missing and install Jiayuan into it (with the test
# tools when asked).
ensure_venv() {
    local extra="${1:-}"
    if [[ -x .venv/bin/python ]] && ! python_is_new_enough .venv/bin/python; then
        fail ".venv was made with a Python older than 3.11. Remove it (rm -rf .venv) and run $0 again."
    fi
    if [[ ! -x .venv/bin/python ]]; then
        local python
        python="$(find_python)"
        echo "Creating .venv with $python ($("$python" --version 2>&1))"
        "$python" -m venv .venv || fail "Could not create .venv.
       On Debian/Ubuntu the venv module is a separate package: apt-get install python3-venv"
        .venv/bin/python -m pip install --quiet --upgrade pip
    fi

    local stamp=.venv/.jiayuan-installed want have=""
    want="$(.venv/bin/python -c 'import hashlib; print(hashlib.sha256(open("pyproject.toml", "rb").read()).hexdigest())')"
    [[ -f "$stamp" ]] && have="$(cat "$stamp")"
    # A test install also serves the start command; a plain one is not enough for tests.
    if [[ "$have" == "$want test" || ( -z "$extra" && "$have" == "$want base" ) ]]; then
        return 0
    fi
    echo "Installing Jiayuan${extra:+ with its $extra tools} into .venv (only when pyproject.toml changes)..."
    .venv/bin/python -m pip install --quiet --editable ".${extra:+[$extra]}"
    echo "$want ${extra:-base}" >"$stamp"
}

# ensure_front_end [required]: install the front-end packages (package-lock.json) and put
# the chart library where the static files are found. Without npm the product still runs:
# the dashboards show their tables without charts. The tests pass "required".
ensure_front_end() {
    local target=src/jiayuan/static/vendor/echarts.min.js
    local stamp=node_modules/.jiayuan-installed want have=""
    want="$(sha256sum package-lock.json | cut -d' ' -f1)"
    [[ -f "$stamp" ]] && have="$(cat "$stamp")"
    if [[ "$have" == "$want" && -f "$target" ]]; then
        return 0
    fi
    if ! command -v npm >/dev/null 2>&1; then
        [[ "${1:-}" == required ]] && fail "The tests need npm (Node.js) to install the chart library.
       On Debian/Ubuntu: apt-get install npm"
        echo "npm was not found: the dashboards will show tables without charts." >&2
        return 0
    fi
    echo "Installing the front-end packages (only when package-lock.json changes)..."
    npm ci --no-audit --no-fund --loglevel=error || fail "npm could not install the front-end packages."
    mkdir -p "$(dirname "$target")"
    cp node_modules/echarts/dist/echarts.min.js "$target"
    echo "$want" >"$stamp"
}
