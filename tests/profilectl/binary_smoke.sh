#!/bin/sh
# Runs the profilectl binary as a user would and checks exit statuses and
# output: help, usage errors, a missing folder, import, get, and a write with
# stdin that is not a terminal (must refuse at once, never wait).
# Usage: binary_smoke.sh PATH/TO/profilectl
set -u
ctl=$1
dir=$(mktemp -d "${TMPDIR:-/tmp}/profilestore-ctl-smoke-XXXXXX")
trap 'rm -rf "$dir"' EXIT
. "$(dirname "$0")/smoke_checks.sh"

expect 0 "usage: profilectl" -- "$ctl" --help
expect 2 "usage: profilectl" -- "$ctl"
expect 2 "missing arguments" -- "$ctl" get Players --db "$dir/db"
expect 1 "does not exist" -- "$ctl" stores --db "$dir/missing"
printf '%s\n' '{"store":"Players","key":"user_1","record":{"Data":{"coins":7}}}' > "$dir/in.jsonl"
expect 1 "pass --yes" -- "$ctl" import "$dir/in.jsonl" --db "$dir/db"
expect 0 "imported 1 record" -- "$ctl" import "$dir/in.jsonl" --db "$dir/db" --yes
expect 0 '"coins": 7' -- "$ctl" get Players user_1 --db "$dir/db"
printf '%s\n' '{"coins": 8}' > "$dir/data.json"
expect 1 "pass --yes" -- "$ctl" set Players user_1 --data "$dir/data.json" --db "$dir/db"
expect 0 '"coins": 7' -- "$ctl" get Players user_1 --db "$dir/db"
expect 1 "no store named" -- "$ctl" keys Nope --db "$dir/db"
expect 0 "0 corrupt" -- "$ctl" check --db "$dir/db"

finish
