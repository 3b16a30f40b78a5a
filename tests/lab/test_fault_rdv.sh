#!/usr/bin/env bash
# Lab test (issue 7 evidence 4, issue 10): the rendezvous server is only
# needed to meet. a-peer and b-peer (port-restricted NATs) have a direct
# link; then the server is killed (SIGKILL) and the link is left alone for
# 200 s, across WireGuard's rekey (REKEY_AFTER_TIME, 120 s) and key expiry
# (REJECT_AFTER_TIME, 180 s): a ping every 0.2 s loses nothing and sends what
# it should; both sides stay established on the direct path at every sample
# (once a second); and a new handshake happens on the way, so the session
# that carries the last pings is not the one the server helped set up.
# The server is started again with the same key and address: both peers
# register again within 30 s, as the server's own log shows (one
# "registered from" line per peer key).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/lab/link.sh
source "$here/link.sh"
# shellcheck source=tests/lab/fault.sh
source "$here/fault.sh"
link_require
trap link_cleanup EXIT
LAB_VERBOSE=0
QUIET_S=${FAULT_RDV_QUIET_S:-200}
REREG_S=30
fail() { echo "FAIL: $*"; exit 1; }

# NODE LINK: "state path last_handshake_age_s" in one status call.
snap() {
  ip netns exec "$(lab_ns "$1")" env TUNNEL_RUN_DIR="$LINK_DIR/node/$1/run" \
    "$LINK_BIN_CTL" status "$2" --json 2>/dev/null |
    jq -er --arg n "$2" '.[] | select(.name == $n) | "\(.state) \(.path) \(.last_handshake_age_s)"'
}

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

# A handshake's time is "now - last_handshake_age_s"; a later one than the
# first seen (by more than the 1 s rounding and the sampling) is a rekey.
declare -A hs0=() hs_last=() hs_new=() links=([a-peer]=home [b-peer]=laptop)
t_start=$(date +%s)
# The ping outlives the watch by 10 s: the probes counted (up to the mark
# at QUIET_S) all had their full time to be answered.
fault_ping_start a-peer 10.77.0.2 0.2 $((QUIET_S + 10))
bad=0 n=0 gap=0 prev=$t_start
# Nothing to do but watch: the link must hold on its own for the whole ping.
# Samples as often as two status calls allow (under the sanitizers, on a
# loaded machine, that can be well over a second); the longest gap is kept.
while (($(date +%s) - t_start < QUIET_S)) && _lab_ours "$FAULT_PING_PID" &&
  [[ $(awk '{ sub(/.*\) /, ""); print $1 }' "/proc/$FAULT_PING_PID/stat" 2>/dev/null) != Z ]]; do
  for side in a-peer b-peer; do
    line=$(snap "$side" "${links[$side]}") || line="? ? null"
    read -r st path age <<<"$line"
    now=$(date +%s)
    if [[ $st != established || $path != direct ]]; then
      echo "$side: state $st path $path at $((now - t_start)) s"
      bad=$((bad + 1))
    fi
    if [[ $age =~ ^[0-9]+$ ]]; then
      hs=$((now - age))
      [[ -n ${hs0[$side]:-} ]] || hs0[$side]=$hs hs_last[$side]=$hs
      if ((hs > hs_last[$side] + 2)); then
        echo "$side: new handshake at $((hs - t_start)) s (the one before was at $((hs_last[$side] - t_start)) s)"
        hs_last[$side]=$hs
        hs_new[$side]=$((${hs_new[$side]:-0} + 1))
      fi
    else
      echo "$side: no handshake age ($age) at $((now - t_start)) s"
      bad=$((bad + 1))
    fi
  done
  n=$((n + 1))
  ((now - prev <= gap)) || gap=$((now - prev))
  prev=$now
  sleep 0.5
done
last=$(fault_ping_mark)
sleep 2
fault_ping_stop
elapsed=$(($(date +%s) - t_start))
echo "$QUIET_S s without the server ($elapsed s watched, $n samples, at most $gap s apart):"
fault_ping_report "$FAULT_PING_LOG" 0.2 0 "$last" || fail "no ping count"
fault_ping_need "$QUIET_S" 0.2 || fail "ping did not run for $QUIET_S s"
((FAULT_LOST == 0)) || fail "$FAULT_LOST pings lost without the server"
((n >= QUIET_S / 5 && gap <= 10)) || fail "$n samples of the state in $QUIET_S s, up to $gap s apart"
((bad == 0)) || fail "$bad samples not established on the direct path"
for side in a-peer b-peer; do
  echo "$side: first handshake at $((hs0[$side] - t_start)) s, last at $((hs_last[$side] - t_start)) s, ${hs_new[$side]:-0} new since"
  # The session the server helped make would have expired by now (180 s):
  # the last pings went over keys negotiated without the server.
  ((${hs_new[$side]:-0} >= 1)) || fail "$side: no new handshake in $QUIET_S s (no rekey seen)"
done
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
