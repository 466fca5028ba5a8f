#!/usr/bin/env bash
# The quickstart end to end on two embedded Prefect servers (SQLite, no accounts):
# validate, plan and apply dev and prod, show that a second plan is empty, run one
# deployment on a process worker, then stop everything it started.
# Set FLOWFLEET_DEMO_KEEP=1 to leave the servers running for the UI.
set -euo pipefail
cd "$(dirname "$0")"
BIN=${BIN:-../../.venv/bin}
FF="$BIN/flowfleet"
export QUICKSTART_DIR="$PWD"     # the pull step points the worker at the flows here
export DO_NOT_TRACK=1 PREFECT_SERVER_ANALYTICS_ENABLED=false
worker_pid=""

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
cleanup() {
  if [ -n "$worker_pid" ]; then
    kill -TERM -- "-$worker_pid" 2>/dev/null || true
    for _ in $(seq 20); do kill -0 "$worker_pid" 2>/dev/null || break; sleep 0.5; done
    kill -KILL -- "-$worker_pid" 2>/dev/null || true
  fi
  if [ "${FLOWFLEET_DEMO_KEEP:-0}" != 1 ]; then
    "$FF" server stop --env dev || true
    "$FF" server stop --env prod || true
  fi
}
trap cleanup EXIT

say "validate (offline)"
"$FF" validate

say "start the embedded servers (plan would start them too)"
for env in dev prod; do
  "$FF" server start --env "$env"
  url=$("$FF" server status --env "$env" --json | "$BIN/python" -c 'import json,sys; print(json.load(sys.stdin)["api_url"])')
  declare "url_$env=$url"
done

say "plan dev and prod: work pools, queues and deployments"
"$FF" plan --env dev --env prod

say "apply dev and prod"
"$FF" apply --env dev --env prod --yes

say "plan again: nothing to do"
"$FF" plan --env dev --env prod --detailed-exitcode

say "run hello/smoke-test on a process worker in dev"
PREFECT_API_URL="$url_dev" PREFECT_WORKER_QUERY_SECONDS=2 PREFECT_HOME="$PWD/.flowfleet/worker" \
  setsid "$BIN/prefect" worker start --pool local-dev >.flowfleet/worker.log 2>&1 &
worker_pid=$!
disown "$worker_pid"   # stopped in cleanup; no job-control chatter
"$FF" run hello/smoke-test --env dev --param name=demo --wait --timeout 300

say "done"
echo "The Prefect UI of dev is at ${url_dev%/api} and of prod at ${url_prod%/api}."
if [ "${FLOWFLEET_DEMO_KEEP:-0}" != 1 ]; then
  echo "The servers stop now; run with FLOWFLEET_DEMO_KEEP=1 to keep them for the UI."
fi
