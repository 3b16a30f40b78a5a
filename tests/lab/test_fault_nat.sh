#!/usr/bin/env bash
# Lab test (issue 7 evidence 1-3): the link survives what happens to a path
# while nobody touches it. a-peer and b-peer sit behind port-restricted NATs
# with a direct path; a ping every 0.1 s and a 1 MiB/s TCP stream with a
# counter run across the whole time while, in turn:
#   1. both routers forget all NAT state, and a-router must then give a-peer
#      a NEW external port: before a-peer's traffic passes again, a-peer2 on
#      the same LAN takes a-peer's old external port towards b's address
#      and port (a flow from that source port through the same NAT), so
#      conntrack cannot quietly re-form the old mapping. Ping resumes within
#      10 s, b's `status` shows a-peer at the new port, and the TCP
#      connection survives (every record arrives, in order);
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
lab_site a port-restricted --peers 2
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

# 1. NAT flush on both routers, the TCP stream running, a-peer's old
# external port taken by a-peer2.
old_ep=$(link_status b-peer laptop endpoint)   # a-router's address:port for a-peer
b_ep=$(link_status a-peer home endpoint)       # b-router's address:port for b-peer
[[ $old_ep =~ ^${LAB_WANADDR[a-router]}:([0-9]+)$ ]] || fail "b-peer's endpoint is '$old_ep'"
old_port=${BASH_REMATCH[1]}
[[ $b_ep =~ ^([0-9.]+):([0-9]+)$ ]] || fail "a-peer's endpoint is '$b_ep'"
b_host=${BASH_REMATCH[1]} b_port=${BASH_REMATCH[2]}
a2=$(lab_addr a-peer2)
# a-router forwards nothing from a-peer while the NAT state is rebuilt: its
# next packet comes after a-peer2's flow holds the old port (a dropped packet
# leaves no conntrack entry). The hold is a table of its own, removed after;
# the NAT table itself is untouched.
hold="table inet ${LAB_PREFIX}hold { chain hold { type filter hook forward priority filter - 10; policy accept; ip saddr $(lab_addr a-peer) drop; }; }"
# The occupant, the same destination from the old port.
occupy="import socket, sys, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(('0.0.0.0', int(sys.argv[1])))
for i in range(120):
    s.sendto(b'occupied', (sys.argv[2], int(sys.argv[3])))
    if i == 0:
        print('sent', flush=True)
    time.sleep(0.5)"
# a-router's conntrack entry of a-peer2's flow maps it to the old port.
occupied() {
  _lab_q a-router conntrack -L -p udp -s "$a2" --sport "$old_port" 2>/dev/null |
    grep -q "src=$b_host dst=${LAB_WANADDR[a-router]} sport=$b_port dport=$old_port "
}
w1=$(fault_ping_mark) s1=$(date +%s)
lab_exec a-router nft -f - <<<"$hold"
lab_flush a-router
lab_flush b-router
lab_spawn a-peer2 python3 -c "$occupy" "$old_port" "$b_host" "$b_port"
occ_pid=$LAB_PID
lab_wait_until 5 occupied || { _lab_q a-router conntrack -L -p udp; fail "a-peer2 did not take port $old_port"; }
lab_exec a-router nft delete table inet "${LAB_PREFIX}hold"
echo "a-peer2 ($a2) holds $old_port -> $b_ep at a-router: $(_lab_q a-router conntrack -L -p udp -s "$a2" 2>/dev/null | head -1)"
recover "NAT flush (both routers, old port taken)"
ep_moved() { [[ $(link_status b-peer laptop endpoint) == "${LAB_WANADDR[a-router]}":* &&
  $(link_status b-peer laptop endpoint) != "$old_ep" ]]; }
lab_wait_until 5 ep_moved || fail "b-peer's endpoint for a-peer is still $(link_status b-peer laptop endpoint)"
echo "b-peer status endpoint: $old_ep -> $(link_status b-peer laptop endpoint)"
occupied || fail "a-peer2's flow lost the old port $old_port during the test"
sleep 3
w2=$(fault_ping_mark) s2=$(date +%s)
lab_stop "$occ_pid"

# 2. a-router gets a new public address.
old=$(link_status b-peer laptop endpoint)
lab_readdress a-router
new_addr=${LAB_WANADDR[a-router]}
recover "public address change of a-router"
ep_is_new() { [[ $(link_status b-peer laptop endpoint) == "$new_addr":* ]]; }
lab_wait_until 5 ep_is_new || fail "b-peer's endpoint is $(link_status b-peer laptop endpoint), not on $new_addr"
echo "b-peer status endpoint: $old -> $(link_status b-peer laptop endpoint)"
sleep 3
w3=$(fault_ping_mark) s3=$(date +%s)

# The TCP stream ran across faults 1 and 2 (28 s from its start).
fault_stream_check || fail "the TCP connection did not survive"

fault_ping_stop
# Each phase's probes were sent (one per 0.1 s of it), or its loss figures
# say nothing.
echo "phase 1, NAT flush:"; fault_ping_report "$FAULT_PING_LOG" 0.1 "$w1" "$w2" || fail "no ping count"
fault_ping_need $((s2 - s1 - 1)) 0.1 || fail "phase 1: too few pings"
((FAULT_OUTAGE_MS <= LIMIT_S * 1000)) || fail "outage $FAULT_OUTAGE_MS ms"
echo "phase 2, new address:"; fault_ping_report "$FAULT_PING_LOG" 0.1 "$w2" "$w3" || fail "no ping count"
fault_ping_need $((s3 - s2 - 1)) 0.1 || fail "phase 2: too few pings"
((FAULT_OUTAGE_MS <= LIMIT_S * 1000)) || fail "outage $FAULT_OUTAGE_MS ms"

# 3. a-peer's daemon killed and started again. a-peer's interface goes with
# its daemon, so this ping runs the other way: b-peer -> a-peer.
fault_ping_start b-peer 10.77.0.1 0.1 $PING_S
sleep 1
lab_stop "$a_pid"
sleep 1
w4=$(fault_ping_mark) s4=$(date +%s)
link_up_fg a-peer home
recover "a-peer daemon restarted"
echo "after the restart: $(link_status a-peer home state) via $(link_status a-peer home endpoint)"
sleep 2
s5=$(date +%s)
fault_ping_stop
echo "phase 3, b-peer -> a-peer from the restart on:"
fault_ping_report "$FAULT_PING_LOG" 0.1 "$w4" || fail "no ping count"
fault_ping_need $((s5 - s4 - 1)) 0.1 || fail "phase 3: too few pings"
((FAULT_OUTAGE_MS <= LIMIT_S * 1000)) || fail "outage $FAULT_OUTAGE_MS ms"

for f in "$LAB_DIR"/*.log; do
  if grep -q 'Sanitizer\|runtime error' "$f"; then cat "$f"; fail "sanitizer report in $f"; fi
done
link_cleanup
link_assert_clean
echo "PASS"
