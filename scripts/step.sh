# The one `step` helper of every CI script (python/ci.sh, node/ci.sh, bindings/uniffi/ci.sh):
#
#   STEP_PREFIX=python; source scripts/step.sh
#   step "name" command args…     runs the command in this shell, prints its name and duration
#
# On exit (success or failure) it prints every step's duration and the total, so the CI budget
# of each language stays visible. `set -e` in the caller stops at the first failing step.
step_durations=()
step_total_start=$SECONDS

step() {
  local name=$1
  shift
  local start=$SECONDS
  echo "--- ${STEP_PREFIX:-ci}: $name"
  "$@"
  step_durations+=("$(printf '%-44s %4ss' "$name" $((SECONDS - start)))")
}

step_report() {
  echo "--- ${STEP_PREFIX:-ci} step durations (total $((SECONDS - step_total_start))s)"
  local d
  for d in "${step_durations[@]}"; do
    echo "  $d"
  done
}
trap step_report EXIT
