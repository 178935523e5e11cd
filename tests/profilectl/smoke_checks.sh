# Shared by the profilectl smoke scripts (sourced, not run): `expect` runs a
# command with stdin closed and counts a failure when its exit status or
# output is not as given; `finish` reports the count and sets the exit status.

failures=0

expect() { # expect STATUS PATTERN -- command...
  want=$1 pattern=$2
  shift 3
  out=$("$@" 2>&1 </dev/null)
  got=$?
  if [ "$got" -ne "$want" ]; then
    echo "FAIL: '$*' exited $got, expected $want; output: $out"
    failures=$((failures + 1))
  elif ! printf '%s' "$out" | grep -q -- "$pattern"; then
    echo "FAIL: '$*' output lacks '$pattern': $out"
    failures=$((failures + 1))
  fi
}

finish() {
  if [ "$failures" -ne 0 ]; then
    echo "$failures check(s) failed"
    exit 1
  fi
  echo "all checks passed"
}
