#!/usr/bin/env bash
# "Fails without the fix": each production fix of issue 13 can be switched off at run time in a
# scratch build (fixes.patch adds `ttx_core::mutant(name)`, true when TTX_MUTANT names it), and
# its API tests are run with the fix on and off, on SQLite and on PostgreSQL. Every row must read
# "ok" with the fix on and "FAILED" with it off; the script exits 1 otherwise.
#
#   tests/mutants/run.sh            # both databases (PostgreSQL from TTX_TEST_DATABASE_URL or the local one)
#   tests/mutants/run.sh sqlite     # SQLite only
#
# The scratch worktree and its target directory live under $TTX_MUTANTS_DIR (default
# /tmp/ttx-mutants); nothing in this checkout changes. A warm target/debug is copied there
# first so only the workspace crates are rebuilt.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$(pwd)
DBS="${1:-sqlite postgres}"
PG="${TTX_TEST_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/test}"
WORK="${TTX_MUTANTS_DIR:-/tmp/ttx-mutants}"
mkdir -p "$WORK"
git worktree remove --force "$WORK/tree" 2>/dev/null || rm -rf "$WORK/tree"
git worktree prune
git worktree add --detach -q "$WORK/tree" HEAD
git -C "$WORK/tree" apply "$ROOT/tests/mutants/fixes.patch"
if [ ! -d "$WORK/target/debug" ] && [ -d "$ROOT/target/debug" ]; then
  mkdir -p "$WORK/target" && cp -a "$ROOT/target/debug" "$WORK/target/"
fi
# Copied outputs are newer than the checkout: touch the sources so cargo rebuilds the workspace.
find "$WORK/tree/crates" "$WORK/tree/tests" "$WORK/tree/migrations" -name '*.rs' -exec touch {} +
export CARGO_TARGET_DIR="$WORK/target" CARGO_INCREMENTAL=0
# The same linker flags as .ci/run (and so as a target/debug it built): other flags rebuild all.
if command -v mold >/dev/null 2>&1; then
  export CARGO_TARGET_X86_64_UNKNOWN_LINUX_GNU_RUSTFLAGS="-C link-arg=-fuse-ld=mold"
fi
BIN=$(cd "$WORK/tree" && cargo test -p ttx-tests --test api --no-run --message-format=json | python3 -c '
import json, sys
for line in sys.stdin:
    m = json.loads(line)
    if m.get("reason") == "compiler-artifact" and m["target"]["name"] == "api" and m.get("executable"):
        print(m["executable"])' | tail -1)
cd "$WORK/tree/tests"
bad=0
while read -r mutant filters; do
  for db in $DBS; do
    if [ "$db" = postgres ]; then export TTX_TEST_DATABASE_URL="$PG"; else unset TTX_TEST_DATABASE_URL; fi
    for m in none "$mutant"; do
      out=$(TTX_MUTANT=$m timeout 900 "$BIN" $filters 2>&1 || true)
      res=$(echo "$out" | grep -o 'test result: [A-Za-z]*\. [0-9]* passed; [0-9]* failed' || echo "no result")
      want=$([ "$m" = none ] && echo ok || echo FAILED)
      echo "$res" | grep -q "result: $want\." || bad=1
      printf '%-13s %-9s %-12s %s\n' "$mutant" "$db" "$([ "$m" = none ] && echo 'fix on' || echo 'fix off')" "${res#test result: }"
    done
  done
done <<'LIST'
text         input_hygiene::bad_text_is_422_naming_the_field
limit        input_hygiene::limit_outside_1_to_100_is_refused
idem_task    idempotency::a_retry_after_the_client_disconnected_replays_the_answer idempotency::a_listing_created_by_a_disconnected_request_is_replayed_not_duplicated
idem_release idempotency::a_retry_after_a_panic_runs_again idempotency::a_retry_after_a_timeout_runs_again
idem_lease   idempotency::a_key_left_by_a_dead_process_lapses_with_its_lease
admin_lock   last_admin::
uri414       http_details::uri_too_long_is_a_problem
close413     http_details::payload_too_large_closes_the_connection
csp          http_details::html_pages_send_security_headers_and_docs_call_nobody
validator    http_details::html_pages_send_security_headers_and_docs_call_nobody
reqid        http_details::client_request_ids_are_checked
ifmatch      http_details::if_match_uses_strong_comparison
links        contract_links::links_to_missing_or_foreign_items_are_422_naming_the_field
dates        contract_links::implausible_dates_are_422_naming_the_field
help         metrics::every_metric_has_help_and_the_domain_figures_follow_the_database
LIST
[ $bad = 0 ] && echo "every fix's tests pass with it and fail without it" || { echo "some row is not as expected"; exit 1; }
