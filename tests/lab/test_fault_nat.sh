#!/usr/bin/env bash
# Lab test (issue 7 evidence 1-3): the link survives what happens to a path
# while nobody touches it. a-peer and b-peer sit behind port-restricted NATs
# with a direct path; a ping every 0.1 s and a 1 MiB/s TCP stream with a
# counter run across the whole time while, in turn:
#   1. both routers forget all NAT state: ping resumes within 10 s and the
#      TCP connection survives (every record arrives, in order);
#   2. a-router's public address changes: ping resumes within 10 s and b's
#      `status` shows a-router's new address as the endpoint;
#   3. a-peer's daemon is killed and started again: ping resumes within 10 s
#      of the restart.
# Each phase prints the pings lost and the longest outage.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/lab/link.sh
source "$here/link.sh"
# shellcheck source=tests/lab/fault.sh
source "$here/fault.sh"
link_require
command -v python3 >/dev/null || { echo "skipped: python3 is missing" >&2; exit 77; }
trap link_cleanup EXIT
LAB_VERBOSE=0
LIMIT_S=10
fail() { echo "FAIL: $*"; exit 1; }

lab_init
lab_site a port-restricted
lab_site b port-restricted
link_init
link_rdv_start
link_pair a-peer home b-peer laptop
link_up_fg b-peer laptop
link_up_fg a-peer home
a_pid=$LINK_PID a_log=$LINK_LOG
link_wait_state a-peer home 15 established || { cat "$a_log"; fail "a-peer not established"; }
link_wait_state b-peer laptop 15 established || fail "b-peer not established"
lab_wait_until 10 fault_ping_ok a-peer 10.77.0.2 || fail "no ping before the faults"
echo "established: a-peer -> $(link_status a-peer home endpoint), b-peer -> $(link_status b-peer laptop endpoint)"

# Recovery time: from the fault until a ping across is answered again.
recover() {
  local what=$1 t0 t1 ms
  t0=$(date +%s%N)
  lab_wait_until $((LIMIT_S + 5)) fault_ping_ok a-peer 10.77.0.2 || fail "$what: no ping within $((LIMIT_S + 5)) s"
  t1=$(date +%s%N)
  ms=$(((t1 - t0) / 1000000))
  echo "$what: ping answered again $ms ms after the fault"
  ((ms <= LIMIT_S * 1000)) || fail "$what: recovery took $ms ms (limit $LIMIT_S s)"
}

PING_S=60
fault_ping_start a-peer 10.77.0.2 0.1 $PING_S
fault_stream_start a-peer b-peer 10.77.0.2 5001 28
sleep 3

# 1. NAT flush on both routers, the TCP stream running.
w1=$(fault_ping_mark)
lab_flush a-router
lab_flush b-router
recover "NAT flush (both routers)"
sleep 3
w2=$(fault_ping_mark)

# 2. a-router gets a new public address.
old=$(link_status b-peer laptop endpoint)
lab_readdress a-router
new_addr=${LAB_WANADDR[a-router]}
recover "public address change of a-router"
ep_is_new() { [[ $(link_status b-peer laptop endpoint) == "$new_addr":* ]]; }
lab_wait_until 5 ep_is_new || fail "b-peer's endpoint is $(link_status b-peer laptop endpoint), not on $new_addr"
echo "b-peer status endpoint: $old -> $(link_status b-peer laptop endpoint)"
sleep 3
w3=$(fault_ping_mark)

# The TCP stream ran across faults 1 and 2 (28 s from its start).
fault_stream_check || fail "the TCP connection did not survive"

fault_ping_stop
echo "phase 1, NAT flush:"; fault_ping_report "$FAULT_PING_LOG" 0.1 "$w1" "$w2"
((FAULT_OUTAGE_MS <= LIMIT_S * 1000)) || fail "outage $FAULT_OUTAGE_MS ms"
echo "phase 2, new address:"; fault_ping_report "$FAULT_PING_LOG" 0.1 "$w2" "$w3"
((FAULT_OUTAGE_MS <= LIMIT_S * 1000)) || fail "outage $FAULT_OUTAGE_MS ms"

# 3. a-peer's daemon killed and started again. a-peer's interface goes with
# its daemon, so this ping runs the other way: b-peer -> a-peer.
fault_ping_start b-peer 10.77.0.1 0.1 $PING_S
sleep 1
lab_stop "$a_pid"
sleep 1
w4=$(fault_ping_mark)
link_up_fg a-peer home
recover "a-peer daemon restarted"
echo "after the restart: $(link_status a-peer home state) via $(link_status a-peer home endpoint)"
sleep 2
fault_ping_stop
echo "phase 3, b-peer -> a-peer from the restart on:"; fault_ping_report "$FAULT_PING_LOG" 0.1 "$w4"
((FAULT_OUTAGE_MS <= LIMIT_S * 1000)) || fail "outage $FAULT_OUTAGE_MS ms"

for f in "$LAB_DIR"/*.log; do
  if grep -q 'Sanitizer\|runtime error' "$f"; then cat "$f"; fail "sanitizer report in $f"; fi
done
link_cleanup
link_assert_clean
echo "PASS"
