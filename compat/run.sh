#!/usr/bin/env bash
# `make test-compat`: flowfleet against every supported Prefect version.
#  - server side: tests/integration/test_server_versions.py and test_automations.py once per
#    server version, against servers started from that version's own environment
#    (FLOWFLEET_TEST_SERVER_PYTHON);
#  - Prefect 2: tests/integration/test_prefect2.py, export of Prefect 2.20 servers (compat/prefect-2.txt);
#  - client side: the offline tests (all but tests/integration and the slow wheel-install
#    test tests/test_release.py) with the oldest supported client, Prefect 3.4.
# Each environment is installed from its locked, hashed file (compat/*.txt) into
# $FLOWFLEET_COMPAT_DIR (default .cache/compat), and rebuilt only when that file changes.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=.venv/bin
DIR=$(realpath -m "${FLOWFLEET_COMPAT_DIR:-.cache/compat}")  # absolute: tests run subprocesses elsewhere
SERVERS=${COMPAT_SERVERS:-3.4 3.6 3.8 3.9}
[ -x "$BIN/uv" ] || "$BIN/pip" install --quiet uv

environment() {  # environment NAME: $DIR/NAME from compat/NAME.txt, unless up to date
    local dir="$DIR/$1" lock="compat/$1.txt" want
    want=$(sha256sum "$lock" | cut -c1-64)
    [ "$(cat "$dir/.locked" 2>/dev/null)" = "$want" ] && return
    rm -rf "$dir"
    "$BIN/uv" venv --quiet --python "$BIN/python" "$dir"
    VIRTUAL_ENV="$dir" "$BIN/uv" pip install --quiet --require-hashes -r "$lock"
    if [[ $1 == client-* ]]; then VIRTUAL_ENV="$dir" "$BIN/uv" pip install --quiet --no-deps -e .; fi
    echo "$want" > "$dir/.locked"
}

started=$SECONDS
pids=()
for name in client-3.4 server-3.1 prefect-2 $(printf 'server-%s ' $SERVERS); do
    environment "$name" & pids+=($!)
done
for pid in "${pids[@]}"; do wait "$pid"; done
echo "compat: environments ready in $((SECONDS - started)) s"

for version in $SERVERS; do
    python="$DIR/server-$version/bin/python"
    full=$("$python" -c 'import prefect; print(prefect.__version__)')
    echo "compat: server Prefect $full"
    FLOWFLEET_TEST_SERVER_PYTHON="$python" FLOWFLEET_TEST_SERVER_VERSION="$full" \
        "$BIN/pytest" -q -p no:cacheprovider tests/integration/test_server_versions.py \
        tests/integration/test_automations.py
done

# A server older than the supported range: refused before anything else is read or written.
python="$DIR/server-3.1/bin/python"
full=$("$python" -c 'import prefect; print(prefect.__version__)')
echo "compat: server Prefect $full (unsupported: the refusal)"
FLOWFLEET_TEST_SERVER_PYTHON="$python" FLOWFLEET_TEST_SERVER_VERSION="$full" \
    "$BIN/pytest" -q -p no:cacheprovider tests/integration/test_server_versions.py \
    -k "test_server_is_the_version_under_test or test_a_server_older_than_supported"

# Prefect 2 → flowfleet: two Prefect 2.20 servers with the legacy state (ECSTask blocks,
# `prefect deployment build -ib ecs-task/<env> --apply`), exported and applied to Prefect 3.
echo "compat: Prefect 2 server $("$DIR/prefect-2/bin/python" -c 'import prefect; print(prefect.__version__)'), export and import"
FLOWFLEET_PREFECT2_PYTHON="$DIR/prefect-2/bin/python" \
    "$BIN/pytest" -q -p no:cacheprovider tests/integration/test_prefect2.py

client="$DIR/client-3.4/bin/python"
echo "compat: client Prefect $("$client" -c 'import prefect; print(prefect.__version__)'), offline tests"
"$client" -m pytest -q -n 2 -p no:cacheprovider tests \
    --ignore=tests/integration --ignore=tests/test_release.py
echo "compat: done in $((SECONDS - started)) s"
