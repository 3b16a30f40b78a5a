#!/usr/bin/env bash
# Lab test (issue 7 evidence 6): hostile input at a peer's UDP socket.
# b-peer has a public address (site NAT "none", ListenPort 51820): that is
# the peer anyone on the internet can reach, the worst case. (Behind a NAT,
# only the rendezvous server's own address and port get through the peer's
# mapping, so a stranger would first have to spoof that.) a-peer, behind a
# port-restricted NAT, keeps a ping every 0.1 s running across the link
# while the public host sends b-peer 10^5 hostile datagrams at a bounded
# rate (tests/lab/hostile.py mixed): random bytes, truncated and oversized
# messages of each type, WireGuard messages with bad MACs, probes under an
# unknown key, spoofed rendezvous replies, and replays of b-peer's own
# captured handshake initiations and transport packets (tcpdump at b-peer
# while the link came up).
# Asserts: the daemon survives; the ping loses (almost) nothing; the sum of
# `status --json` `dropped` counters grows by what reached the socket (sent
# minus the kernel's receive-buffer drops); VmRSS grows by < 8 MiB.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/lab/link.sh
source "$here/link.sh"
# shellcheck source=tests/lab/fault.sh
source "$here/fault.sh"
link_require
for t in python3 tcpdump; do
  command -v "$t" >/dev/null || { echo "skipped: $t is missing" >&2; exit 77; }
done
trap link_cleanup EXIT
LAB_VERBOSE=0
COUNT=${FAULT_HOSTILE_COUNT:-100000}
RATE=${FAULT_HOSTILE_RATE:-10000}
RSS_BOUND_KIB=8192
PORT=51820
fail() { echo "FAIL: $*"; exit 1; }

lab_init
lab_site a port-restricted
lab_site b none
link_init
link_rdv_start
b_addr=$(lab_addr b-peer)
# A static Endpoint makes a-peer's handshake go straight to b-peer's socket
# (where it is captured), not only through the rendezvous server.
LINK_PORT2=$PORT LINK_ENDPOINT1=$b_addr:$PORT link_pair a-peer home b-peer laptop

# Capture what reaches b-peer while the link comes up: the material to replay.
pcap=$LAB_DIR/b-peer.pcap
lab_spawn b-peer tcpdump -i any -n -U --immediate-mode -Z root -w "$pcap" udp dst port $PORT
dump_pid=$LAB_PID dump_log=$LAB_LOG
dump_ready() { grep -q 'listening on' "$dump_log" 2>/dev/null; }
lab_wait_until 10 dump_ready || { cat "$dump_log"; fail "tcpdump did not start"; }

link_up_fg b-peer laptop
b_pid=$LINK_PID
link_up_fg a-peer home
link_wait_state a-peer home 15 established || fail "a-peer not established"
link_wait_state b-peer laptop 15 established || fail "b-peer not established"
lab_wait_until 10 fault_ping_ok a-peer 10.77.0.2 || fail "no ping before the flood"
lab_exec a-peer ping -n -c 5 -i 0.1 -W 1 10.77.0.2 >/dev/null || true
# --immediate-mode and -U: each packet is in the file once captured.
sleep 0.5
lab_stop "$dump_pid"
echo "link: a-peer -> $(link_status a-peer home endpoint), b-peer listens on $b_addr:$PORT"

# shellcheck disable=SC2016 # the $N are awk fields
snmp() { lab_exec b-peer awk '/^Udp:/ && $2 ~ /^[0-9]/ { print $2, $4, $6 }' /proc/net/snmp; }
read -r in0 inerr0 rcvbuf0 < <(snmp)
drop0=$(fault_dropped_sum b-peer laptop)
rss0=$(fault_rss_kib "$b_pid")

fault_ping_start a-peer 10.77.0.2 0.1 300
t0=$(date +%s%N)
out=$(lab_exec pub timeout 120 python3 "$here/hostile.py" mixed "$b_addr" $PORT \
  --count "$COUNT" --rate "$RATE" --peer-key "$(link_status b-peer laptop public_key)" --pcap "$pcap") ||
  fail "hostile.py failed: $out"
echo "flood: $out"
echo "flood took $((($(date +%s%N) - t0) / 1000000)) ms"
sleep 1
fault_ping_stop

kill -0 "$b_pid" 2>/dev/null || fail "b-peer's daemon died"
read -r in1 inerr1 rcvbuf1 < <(snmp)
drop1=$(fault_dropped_sum b-peer laptop)
rss1=$(fault_rss_kib "$b_pid")
sent=$(sed -n 's/^sent=\([0-9]*\) .*/\1/p' <<<"$out")
kdrop=$((rcvbuf1 - rcvbuf0))
reached=$((sent - kdrop))
ddrop=$((drop1 - drop0))
echo "b-peer kernel: InDatagrams +$((in1 - in0)) InErrors +$((inerr1 - inerr0)) RcvbufErrors +$kdrop"
echo "b-peer dropped: $drop0 -> $drop1 (+$ddrop) for $reached datagrams that reached the socket"
link_ctl b-peer status laptop --json | jq -c '.[0].dropped'
echo "b-peer VmRSS: $rss0 KiB -> $rss1 KiB ($((rss1 - rss0)) KiB)"
echo "ping during the flood:"; fault_ping_report "$FAULT_PING_LOG" 0.1

[[ $out == *replay_init=* && $out == *replay_data=* ]] || fail "no captured initiation or transport packet to replay"
# Every hostile datagram that reached the socket is dropped and counted once
# (the 1 % slack is for the kernel counting a GRO run once).
((ddrop >= reached * 99 / 100)) || fail "dropped grew by $ddrop, $reached datagrams reached the socket"
((ddrop <= sent + 100)) || fail "dropped grew by $ddrop, more than the $sent sent"
((rss1 - rss0 < RSS_BOUND_KIB)) || fail "VmRSS grew by $((rss1 - rss0)) KiB"
((FAULT_OUTAGE_MS <= 1000)) || fail "the ping stopped for $FAULT_OUTAGE_MS ms"
((FAULT_LOST * 100 <= FAULT_SENT * 2)) || fail "$FAULT_LOST of $FAULT_SENT pings lost"
[[ $(link_status b-peer laptop state) == established ]] || fail "b-peer is $(link_status b-peer laptop state)"

for f in "$LAB_DIR"/*.log; do
  if grep -q 'Sanitizer\|runtime error' "$f"; then cat "$f"; fail "sanitizer report in $f"; fi
done
link_cleanup
link_assert_clean
echo "PASS"
