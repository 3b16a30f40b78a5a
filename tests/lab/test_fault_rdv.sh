#!/usr/bin/env bash
# Lab test (issue 7 evidence 4): the rendezvous server is only needed to
# meet. a-peer and b-peer (port-restricted NATs) have a direct link; then the
# server is killed (SIGKILL): a ping every 0.2 s for 60 s loses nothing and
# the link stays established. The server is started again with the same key
# and address: both peers register again within 30 s, as the server's own
# log shows (one "registered from" line per peer key).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/lab/link.sh
source "$here/link.sh"
# shellcheck source=tests/lab/fault.sh
source "$here/fault.sh"
link_require
trap link_cleanup EXIT
LAB_VERBOSE=0
QUIET_S=${FAULT_RDV_QUIET_S:-60}
REREG_S=30
fail() { echo "FAIL: $*"; exit 1; }

lab_init
lab_site a port-restricted
lab_site b port-restricted
link_init
link_rdv_start
rdv_log=$LAB_LOG
link_pair a-peer home b-peer laptop
link_up_fg b-peer laptop
link_up_fg a-peer home
link_wait_state a-peer home 15 established || fail "a-peer not established"
link_wait_state b-peer laptop 15 established || fail "b-peer not established"
lab_wait_until 10 fault_ping_ok a-peer 10.77.0.2 || fail "no ping before the fault"
echo "established direct: a-peer -> $(link_status a-peer home endpoint) ($(link_status a-peer home path))"
echo "server log before the kill: $(grep -c 'registered from' "$rdv_log") registrations"

kill -KILL "$LINK_RDV_PID"
{ lab_stop "$LINK_RDV_PID"; } 2>/dev/null
echo "rendezvous server killed (SIGKILL)"

fault_ping_start a-peer 10.77.0.2 0.2 "$QUIET_S"
sleep 1
# Nothing to do but watch: the link must hold on its own for the whole ping.
n=0
while ((n < QUIET_S + 10)) && _lab_ours "$FAULT_PING_PID" &&
  [[ $(awk '{ sub(/.*\) /, ""); print $1 }' "/proc/$FAULT_PING_PID/stat" 2>/dev/null) != Z ]]; do
  s=$(link_status a-peer home state)
  [[ $s == established ]] || echo "a-peer state $s at ${n} s"
  sleep 1; n=$((n + 1))
done
fault_ping_stop
echo "$QUIET_S s without the server:"; fault_ping_report "$FAULT_PING_LOG" 0.2
((FAULT_SENT >= QUIET_S * 5 * 8 / 10)) || fail "ping sent only $FAULT_SENT probes"
((FAULT_LOST == 0)) || fail "$FAULT_LOST pings lost without the server"
echo "a-peer: state $(link_status a-peer home state), path $(link_status a-peer home path), last handshake $(link_status a-peer home last_handshake_age_s) s ago"

# Same key, same address: the peers' pinned key still matches.
lab_spawn pub "$LINK_BIN_RDV" --key "$(link_keyfile rendezvous)" --listen "$LINK_RDV" \
  --foreground --stats "$LINK_RDV_STATS"
LINK_RDV_PID=$LAB_PID rdv_log=$LAB_LOG
t0=$(date +%s%N)
both_registered() {
  [[ $(grep 'registered from' "$rdv_log" 2>/dev/null | awk '{ for (i = 1; i < NF; i++) if ($i == "peer") print $(i + 1) }' | sort -u | wc -l) -ge 2 ]]
}
lab_wait_until "$REREG_S" both_registered || { cat "$rdv_log"; fail "not both peers registered within $REREG_S s"; }
ms=$((($(date +%s%N) - t0) / 1000000))
echo "server restarted: both peers registered again after $ms ms:"
grep 'registered from' "$rdv_log"
lab_wait_until 5 fault_ping_ok a-peer 10.77.0.2 || fail "no ping after the restart"

for f in "$LAB_DIR"/*.log; do
  if grep -q 'Sanitizer\|runtime error' "$f"; then cat "$f"; fail "sanitizer report in $f"; fi
done
link_cleanup
link_assert_clean
echo "PASS"
