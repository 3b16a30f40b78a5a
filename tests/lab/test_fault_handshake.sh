#!/usr/bin/env bash
# Lab test (issue 7 evidence 7): handshake flood. b-peer has a public address
# (site NAT "none", ListenPort 51820; see test_fault_hostile.sh for why).
# The public host sends it thousands of handshake initiations per second
# with a VALID mac1 for b-peer's key and random contents otherwise
# (tests/lab/hostile.py handshake). WireGuard's answer to that load is a
# cookie reply instead of the Curve25519 work; the real peer keeps going:
#   - the flood tool receives cookie replies (type 3) echoing its own sender
#     indices, and b-peer's dropped.rate_limited grows;
#   - a ping b-peer -> a-peer every 0.1 s loses nothing while the link is
#     left alone under the flood;
#   - a-peer's daemon is restarted in the middle of the flood: its new
#     handshake meets a responder under load, so it must come back with a
#     cookie (mac2) to get through; the link is up again within 15 s and the
#     handshake is fresh.
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
RATE=${FAULT_HS_RATE:-3000}
FLOOD_S=24
PORT=51820
fail() { echo "FAIL: $*"; exit 1; }

lab_init
lab_site a port-restricted
lab_site b none
link_init
link_rdv_start
b_addr=$(lab_addr b-peer)
LINK_PORT2=$PORT LINK_ENDPOINT1=$b_addr:$PORT link_pair a-peer home b-peer laptop
link_up_fg b-peer laptop
b_pid=$LINK_PID
link_up_fg a-peer home
a_pid=$LINK_PID
link_wait_state a-peer home 15 established || fail "a-peer not established"
link_wait_state b-peer laptop 15 established || fail "b-peer not established"
lab_wait_until 10 fault_ping_ok b-peer 10.77.0.1 || fail "no ping before the flood"
echo "link: a-peer -> $(link_status a-peer home endpoint), b-peer listens on $b_addr:$PORT"

rl0=$(link_status b-peer laptop dropped.rate_limited)
fault_ping_start b-peer 10.77.0.1 0.1 300
lab_spawn pub python3 "$here/hostile.py" handshake "$b_addr" $PORT --secs $FLOOD_S --rate "$RATE" \
  --peer-key "$(link_status b-peer laptop public_key)"
flood_pid=$LAB_PID flood_log=$LAB_LOG
t_flood=$(date +%s%N)

# Phase 1: the link is left alone under the flood.
sleep 8
m1=$(fault_ping_mark)
rl1=$(link_status b-peer laptop dropped.rate_limited)
echo "after 8 s of flood: b-peer dropped.rate_limited +$((rl1 - rl0)), state $(link_status b-peer laptop state)"
((rl1 - rl0 >= 1000)) || fail "the responder did not switch to cookie replies (rate_limited +$((rl1 - rl0)))"

# Phase 2: a fresh handshake has to get through the loaded responder. What
# passes between the two peers (not the flood from pub) is captured at b-peer.
pcap=$LAB_DIR/b-peer.pcap
lab_spawn b-peer tcpdump -i any -n -U --immediate-mode -Z root -w "$pcap" \
  udp port $PORT and not host "$LAB_PUB1"
dump_pid=$LAB_PID dump_log=$LAB_LOG
dump_ready() { grep -q 'listening on' "$dump_log" 2>/dev/null; }
lab_wait_until 10 dump_ready || { cat "$dump_log"; fail "tcpdump did not start"; }
lab_stop "$a_pid"
link_up_fg a-peer home
a_log=$LINK_LOG
t_restart=$(date +%s%N)
m2=$(fault_ping_mark)
lab_wait_until 15 fault_ping_ok a-peer 10.77.0.2 || { cat "$a_log"; fail "no link within 15 s of the restart under the flood"; }
ms=$((($(date +%s%N) - t_restart) / 1000000))
age=$(link_status a-peer home last_handshake_age_s)
echo "a-peer restarted under the flood: ping across after $ms ms, handshake $age s ago, state $(link_status a-peer home state)"
if [[ $age == null ]] || ((${age%.*} * 1000 > ms)); then
  fail "a-peer's handshake is not from after the restart (age $age s)"
fi
flooding() { _lab_ours "$flood_pid" && [[ $(awk '{ sub(/.*\) /, ""); print $1 }' "/proc/$flood_pid/stat") != Z ]]; }
flooding || fail "the flood ended before the handshake completed; nothing shown"
echo "still flooding $((($(date +%s%N) - t_flood) / 1000000)) ms after the flood started"
sleep 0.5
lab_stop "$dump_pid"
# Under load, an initiation without a valid mac2 only earns a cookie reply:
# a-peer was told "cookie", came back with mac2 and got its response.
seen=$(python3 "$here/hostile.py" inspect "$pcap" --peer "${LAB_WANADDR[a-router]}")
echo "between the peers at b-peer since the restart: $seen"
n_of() { sed -n "s/.*$1=\([0-9]*\).*/\1/p" <<<"$seen"; }
if (($(n_of to_peer_cookie) < 1 || $(n_of from_peer_initiation) < 2 || $(n_of to_peer_response) < 1)); then
  fail "no cookie round (cookie to a-peer, initiation again, response) in the capture"
fi

# The flood ends on its own after FLOOD_S seconds.
lab_wait_until $((FLOOD_S + 15)) grep -q '^sent=' "$flood_log" || fail "the flood tool did not finish"
fault_ping_stop
out=$(grep '^sent=' "$flood_log")
echo "flood: $out"
rl2=$(link_status b-peer laptop dropped.rate_limited)
echo "b-peer dropped.rate_limited: $rl0 -> $rl2 (+$((rl2 - rl0)))"
link_ctl b-peer status laptop --json | jq -c '.[0].dropped'
echo "phase 1, link left alone under the flood (b-peer -> a-peer):"
fault_ping_report "$FAULT_PING_LOG" 0.1 0 "$m1" || fail "no ping count for phase 1"
# Phase 1 lasted 8 s: zero loss only counts if the probes were sent.
fault_ping_need 8 0.1 || fail "too few pings in phase 1"
((FAULT_LOST == 0)) || fail "$FAULT_LOST pings lost under the flood"
echo "phase 2, from a-peer's restart on:"
fault_ping_report "$FAULT_PING_LOG" 0.1 "$m2" || fail "no ping count for phase 2"

cookies=$(sed -n 's/.* cookie_replies=\([0-9]*\).*/\1/p' <<<"$out")
matching=$(sed -n 's/.* matching=\([0-9]*\).*/\1/p' <<<"$out")
((cookies >= 1000 && matching == cookies)) || fail "cookie replies: $cookies, matching our initiations: $matching"
kill -0 "$b_pid" || fail "b-peer's daemon died"
if grep -q 'Sanitizer\|runtime error' "$LAB_DIR"/*.log; then grep -l 'Sanitizer\|runtime error' "$LAB_DIR"/*.log; fail "sanitizer report"; fi
link_cleanup
link_assert_clean
echo "PASS"
