#!/bin/sh
# Runs the profilectl binary against a profilestore-node process, as an
# operator would: import, get, set, export over --connect; then the node is
# stopped and the same folder is read with --db. Every wait is bounded.
# Usage: connect_smoke.sh PATH/TO/profilectl PATH/TO/profilestore-node
set -u
ctl=$1
node=$2
dir=$(mktemp -d "${TMPDIR:-/tmp}/profilestore-ctl-connect-XXXXXX")
node_pid=
cleanup() {
  if [ -n "$node_pid" ]; then
    kill "$node_pid" 2>/dev/null
    wait "$node_pid" 2>/dev/null
  fi
  rm -rf "$dir"
}
trap cleanup EXIT
. "$(dirname "$0")/smoke_checks.sh"

"$node" --role storage --name storage-1 --db "$dir/db" \
  --listen 127.0.0.1:0 >"$dir/node.out" 2>"$dir/node.err" &
node_pid=$!
# The ready line: "ready storage storage-1 HOST:PORT", within 30 s.
where=
i=0
while [ $i -lt 300 ]; do
  where=$(sed -n 's/^ready storage storage-1 //p' "$dir/node.out")
  [ -n "$where" ] && break
  sleep 0.1
  i=$((i + 1))
done
if [ -z "$where" ]; then
  echo "FAIL: profilestore-node did not get ready: $(cat "$dir/node.err")"
  exit 1
fi

c="--connect $where --timeout 10"
printf '%s\n' '{"store":"Players","key":"user_1","record":{"Data":{"coins":7}}}' > "$dir/in.jsonl"
expect 1 "pass --yes" -- "$ctl" import "$dir/in.jsonl" $c
expect 0 "imported 1 record" -- "$ctl" import "$dir/in.jsonl" $c --yes
expect 0 '"coins": 7' -- "$ctl" get Players user_1 $c
printf '%s\n' '{"coins": 8}' > "$dir/data.json"
expect 0 "set Players/user_1" -- "$ctl" set Players user_1 --data "$dir/data.json" $c --yes
expect 0 '"coins":8' -- "$ctl" export Players $c
expect 0 "0 corrupt" -- "$ctl" check $c
expect 1 "not both" -- "$ctl" stores $c --db "$dir/db"

kill "$node_pid"
wait "$node_pid" 2>/dev/null
node_pid=
expect 1 "cannot reach a storage node at $where" -- "$ctl" stores $c
expect 0 '"coins": 8' -- "$ctl" get Players user_1 --db "$dir/db"

finish
