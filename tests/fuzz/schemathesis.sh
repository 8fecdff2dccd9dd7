#!/usr/bin/env bash
# API fuzzing with schemathesis (PyPI) against the server's own /openapi.json, with the demo data
# and a valid token of each role, on SQLite or PostgreSQL.
#
#   tests/fuzz/schemathesis.sh                      # long form: SQLite, 100 examples per operation, every role
#   tests/fuzz/schemathesis.sh --database postgres  # the same on a fresh database of the local PostgreSQL
#   tests/fuzz/schemathesis.sh --examples 5 --roles "anonymous member operator"   # short form (.ci/run)
#
# Fails on any 5xx, any response that does not match the document (status code, content type,
# headers, body schema) and any operation answering a bad token with anything but 401. Checks
# that judge our business validation against the schema (positive data "should be accepted") are
# not run: a region code that does not exist or a title of zero-width spaces is schema-valid and
# rightly refused with a 422.
set -euo pipefail
cd "$(dirname "$0")/../.."

EXAMPLES=100
DATABASE=sqlite
ROLES="anonymous member org_admin broker station_reviewer bureau_analyst operator"
SCHEMATHESIS_VERSION="4.32.5"
while [ $# -gt 0 ]; do
  case "$1" in
    --examples) EXAMPLES="$2"; shift 2 ;;
    --database) DATABASE="$2"; shift 2 ;;
    --roles) ROLES="$2"; shift 2 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done

if ! python3 -c "import schemathesis, sys; sys.exit(schemathesis.__version__ != '$SCHEMATHESIS_VERSION')" 2>/dev/null; then
  echo "installing schemathesis $SCHEMATHESIS_VERSION from PyPI"
  python3 -m pip install --quiet --disable-pip-version-check "schemathesis==$SCHEMATHESIS_VERSION" 2>&1 \
    | grep -v "Running pip as the 'root'" || true
fi

# The `ttx` binary of the test build (`ttx-under-test`, the same CLI built inside the test
# package, which `cargo test --workspace` builds: nothing is rebuilt).
TTX_BIN=$({ cargo test --workspace --no-run --message-format=json 2>/dev/null || true; } | python3 -c '
import json, sys
for line in sys.stdin:
    m = json.loads(line)
    if m.get("reason") == "compiler-artifact" and m["target"]["name"] == "ttx-under-test" and "bin" in m["target"]["kind"] and not m["profile"]["test"] and m.get("executable"):
        print(m["executable"])
' | tail -1)
[ -x "$TTX_BIN" ] || { echo "the ttx binary was not built"; exit 1; }

WORK=$(mktemp -d)
PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
export TTX_DATA_DIR="$WORK/data"
# Fuzzing sends thousands of requests a minute from one token and one address.
export TTX_SERVER__RATE_LIMIT__PER_TOKEN_PER_MINUTE=0
export TTX_SERVER__RATE_LIMIT__PER_ADDRESS_PER_MINUTE=0
PGDB=""
if [ "$DATABASE" = postgres ]; then
  PGADMIN="${TTX_TEST_PG_ADMIN_URL:-postgres://postgres@127.0.0.1:5432/test}"
  PGDB="ttx_fuzz_$(od -An -N6 -tx1 /dev/urandom | tr -d ' \n')"
  psql "$PGADMIN" -qc "CREATE DATABASE $PGDB" >/dev/null
  export TTX_DATABASE__URL="${PGADMIN%/*}/$PGDB"
fi
SERVER_PID=""
cleanup() {
  [ -n "$SERVER_PID" ] && kill "$SERVER_PID" 2>/dev/null && wait "$SERVER_PID" 2>/dev/null || true
  [ -n "$PGDB" ] && psql "$PGADMIN" -qc "DROP DATABASE IF EXISTS $PGDB WITH (FORCE)" >/dev/null 2>&1 || true
  rm -rf "$WORK"
}
trap cleanup EXIT

echo "seeding the demo data ($DATABASE)"
"$TTX_BIN" seed --demo >"$WORK/seed.txt" 2>"$WORK/seed.log" || { cat "$WORK/seed.log"; exit 1; }
"$TTX_BIN" serve --bind "127.0.0.1:$PORT" >"$WORK/server.out" 2>"$WORK/server.log" &
SERVER_PID=$!
for _ in $(seq 1 300); do
  curl -fs "http://127.0.0.1:$PORT/healthz" >/dev/null 2>&1 && break
  kill -0 "$SERVER_PID" 2>/dev/null || { tail -20 "$WORK/server.log"; exit 1; }
  sleep 0.2
done

token_of() { awk -v r="$1" '$1 == r && $NF ~ /^ttx_/ { print $NF; exit }' "$WORK/seed.txt"; }

FAILED=""
for role in $ROLES; do
  auth=()
  if [ "$role" != anonymous ]; then
    tok=$(token_of "$role")
    [ -n "$tok" ] || { echo "no demo token for role $role"; exit 1; }
    auth=(-H "Authorization: Bearer $tok")
  fi
  echo
  echo "=== schemathesis as $role ($DATABASE, $EXAMPLES examples per operation) ==="
  # From the work directory: schemathesis leaves a .schemathesis/ folder where it runs.
  if (cd "$WORK" && schemathesis run "http://127.0.0.1:$PORT/openapi.json" "${auth[@]}" \
      --checks not_a_server_error,status_code_conformance,content_type_conformance,response_headers_conformance,response_schema_conformance,ignored_auth \
      --max-examples "$EXAMPLES" --workers 2 --no-color --seed 20261129 \
      >"$WORK/st-$role.txt" 2>&1); then
    sed -n '/SUMMARY/,$p' "$WORK/st-$role.txt" | grep -E "Tested|generated" || true
  elif ! sed -n '/SUMMARY/,$p' "$WORK/st-$role.txt" | grep -q "^Failures:"; then
    # No check failed, but schemathesis itself stumbled on an operation (an internal error of
    # its generator, e.g. "AST constructor recursion depth mismatch"): say so, do not fail.
    sed -n '/SUMMARY/,$p' "$WORK/st-$role.txt" | grep -E "Tested|generated|Runtime Error" || true
    grep -A3 "^_\{5,\} .* _\{5,\}$" "$WORK/st-$role.txt" | grep -E "^_|Error" | head -10 || true
    echo "(schemathesis errors above are its own, not failed checks)"
  else
    cat "$WORK/st-$role.txt"
    FAILED="$FAILED $role"
  fi
done

# Schemathesis saw every answer, but the server's own count is the last word on 5xx.
if curl -fsS "http://127.0.0.1:$PORT/metrics" | grep -E '^ttx_http_requests_total\{.*status="5[0-9][0-9]"' ; then
  echo "the server answered the lines above with a 5xx"
  FAILED="$FAILED server-5xx"
fi
if [ -n "$FAILED" ]; then
  echo "schemathesis found failures as:$FAILED"
  exit 1
fi
echo "schemathesis: no 5xx and no schema violation as $ROLES on $DATABASE"
