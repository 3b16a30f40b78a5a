#!/usr/bin/env bash
# Lab test (issue 7 evidence 6): hostile input at a peer's UDP socket
# (tests/lab/hostile.py mixed, bounded rate): random bytes, truncated and
# oversized messages of each type, WireGuard messages with bad MACs, probes
# under an unknown key, spoofed rendezvous replies, and replays of the
# handshake initiations and transport packets captured (tcpdump) at b-peer
# while the link came up. a-peer keeps a ping every 0.1 s running across
# the link the whole time.
#   1. b-peer has a public address (site NAT "none", ListenPort 51820), the
#      peer anyone can reach: 10^5 datagrams from the public host.
#   2. a-peer sits behind a port-restricted NAT: the only way in for a
#      stranger is the mapping a-peer keeps towards its rendezvous server,
#      so 10^4 datagrams claim the server's address and port (raw socket).
# Asserts for each: the daemon survives and stays established; it sends
# nothing back to the attacker's address (an nftables counter on the node's
# output: no datagram to any port but the server's, and to the server's port
# only the rendezvous messages it sends anyway, far fewer than the hostile
# datagrams; hostile.py's own socket gets no reply either); its endpoint
# for the other peer stays where it was; the sum of
# `status --json` `dropped` counters grows by what reached the socket (sent
# minus the kernel's receive-buffer drops); VmRSS grows by < 1 MiB over the
# flood, after a warm-up flood of 1/20 its size (at b-peer a leak of 10
# bytes per datagram would show); the ping loses at most 2 % and never stops
# for more than 1 s.
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
# Memory is measured as VmRSS, so AddressSanitizer must not make it grow on
# its own: its quarantine holds freed blocks (up to 256 MiB) and its fake
# stacks (detect_stack_use_after_return) touch new pages call after call
# until they wrap. The daemons of this test do without both (later
# ASAN_OPTIONS words win); everything else stays checked.
export ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}quarantine_size_mb=0:detect_stack_use_after_return=0
LAB_VERBOSE=0
COUNT=${FAULT_HOSTILE_COUNT:-100000}
RATE=${FAULT_HOSTILE_RATE:-10000}
RSS_BOUND_KIB=1024
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
a_pid=$LINK_PID
link_wait_state a-peer home 15 established || fail "a-peer not established"
link_wait_state b-peer laptop 15 established || fail "b-peer not established"
lab_wait_until 10 fault_ping_ok a-peer 10.77.0.2 || fail "no ping before the flood"
lab_exec a-peer ping -n -c 5 -i 0.1 -W 1 10.77.0.2 >/dev/null || true
# --immediate-mode and -U: each packet is in the file once captured.
sleep 0.5
lab_stop "$dump_pid"
echo "link: a-peer -> $(link_status a-peer home endpoint), b-peer listens on $b_addr:$PORT"

# The node's UDP counters: InDatagrams InErrors RcvbufErrors.
# shellcheck disable=SC2016 # the $N are awk fields
snmp() { lab_exec "$1" awk '/^Udp:/ && $2 ~ /^[0-9]/ { print $2, $4, $6 }' /proc/net/snmp; }

# What NODE sends to the attacker's address (pub, which is also the
# rendezvous server's): counters "cookie" (WireGuard cookie replies, type 3,
# 64 bytes, to any port), "other" (any other UDP to any port but the
# server's), "nonrdv" (to the server's port, not a rendezvous message, 0xf1)
# and "rdv".
rdv_port=${LINK_RDV##*:}
replies_watch() {
  lab_exec "$1" nft -f - <<EOF
table inet ${LAB_PREFIX}replies {
  counter cookie {}
  counter other {}
  counter nonrdv {}
  counter rdv {}
  chain out {
    type filter hook output priority filter; policy accept;
    ip daddr $LAB_PUB1 udp length 72 @th,64,8 3 counter name "cookie" accept
    ip daddr $LAB_PUB1 udp dport != $rdv_port counter name "other"
    ip daddr $LAB_PUB1 udp dport $rdv_port @th,64,8 != 0xf1 counter name "nonrdv"
    ip daddr $LAB_PUB1 udp dport $rdv_port @th,64,8 0xf1 counter name "rdv"
  }
}
EOF
}
replies_count() { # NODE COUNTER
  _lab_q "$1" nft list counter inet "${LAB_PREFIX}replies" "$2" | sed -n 's/.*packets \([0-9]*\).*/\1/p'
}

# flood NODE LINK DAEMON_PID HOST PORT COUNT [hostile.py options]: one flood
# at NODE's LINK through HOST:PORT, then its accounting and assertions.
flood() {
  local node=$1 link=$2 pid=$3 host=$4 port=$5 count=$6 in0 inerr0 rcvbuf0 in1 inerr1 rcvbuf1
  local drop0 drop1 rss0 rss1 t0 out sent kdrop reached ddrop ep0 ep1 other nonrdv rdv cookie tw warm inits
  shift 6
  ep0=$(link_status "$node" "$link" endpoint)
  replies_watch "$node" || fail "nft refused the reply counters"
  tw=$(date +%s)
  # A warm-up flood of the same kinds first: memory that is taken once (the
  # sanitizers' fake stacks and quarantine, first-use buffers) is then in the
  # "before" figure, and what remains to see is growth with the count.
  warm=$(lab_exec pub timeout 60 python3 "$here/hostile.py" mixed "$host" "$port" --count $((count / 20)) \
    --rate "$RATE" --peer-key "$(link_status "$node" "$link" public_key)" --pcap "$pcap" "$@") ||
    fail "hostile.py warm-up failed"
  sleep 0.5
  read -r in0 inerr0 rcvbuf0 < <(snmp "$node")
  drop0=$(fault_dropped_sum "$node" "$link")
  rss0=$(fault_rss_kib "$pid")
  t0=$(date +%s%N)
  out=$(lab_exec pub timeout 120 python3 "$here/hostile.py" mixed "$host" "$port" --count "$count" \
    --rate "$RATE" --peer-key "$(link_status "$node" "$link" public_key)" --pcap "$pcap" "$@") ||
    fail "hostile.py failed: $out"
  echo "flood: $out"
  echo "flood took $((($(date +%s%N) - t0) / 1000000)) ms"
  # The daemon may still be reading its socket buffer on a loaded machine:
  # wait (up to 10 s) until its drop counters stop moving for 1 s.
  local d_prev=-1 d_now n
  for ((n = 0; n < 10; n++)); do
    sleep 1
    d_now=$(fault_dropped_sum "$node" "$link") || break
    [[ $d_now != "$d_prev" ]] || break
    d_prev=$d_now
  done
  kill -0 "$pid" 2>/dev/null || fail "$node's daemon died"
  read -r in1 inerr1 rcvbuf1 < <(snmp "$node")
  drop1=$(fault_dropped_sum "$node" "$link")
  rss1=$(fault_rss_kib "$pid")
  sent=$(sed -n 's/^sent=\([0-9]*\) .*/\1/p' <<<"$out")
  kdrop=$((rcvbuf1 - rcvbuf0))
  reached=$((sent - kdrop))
  ddrop=$((drop1 - drop0))
  echo "$node kernel: InDatagrams +$((in1 - in0)) InErrors +$((inerr1 - inerr0)) RcvbufErrors +$kdrop"
  echo "$node dropped: $drop0 -> $drop1 (+$ddrop) for $reached datagrams that reached the socket"
  link_ctl "$node" status "$link" --json | jq -c '.[0].dropped'
  echo "$node VmRSS: $rss0 KiB -> $rss1 KiB ($((rss1 - rss0)) KiB)"
  other=$(replies_count "$node" other) nonrdv=$(replies_count "$node" nonrdv) rdv=$(replies_count "$node" rdv)
  cookie=$(replies_count "$node" cookie)
  inits=$(($(sed -n 's/.* replay_init=\([0-9]*\).*/\1/p' <<<"$warm") + $(sed -n 's/.* replay_init=\([0-9]*\).*/\1/p' <<<"$out")))
  lab_exec "$node" nft delete table inet "${LAB_PREFIX}replies"
  tw=$(($(date +%s) - tw))
  ep1=$(link_status "$node" "$link" endpoint)
  echo "$node -> $LAB_PUB1 over $tw s of floods: $cookie cookie replies ($inits replayed initiations sent), $other other datagrams to other ports, $nonrdv non-rendezvous and $rdv rendezvous messages to port $rdv_port"
  echo "$node endpoint: $ep0 -> $ep1"
  [[ -n $other && -n $nonrdv && -n $rdv && -n $cookie ]] || fail "no reply counters"
  ((other == 0 && nonrdv == 0)) || fail "$node answered the attacker"
  # The one answer WireGuard gives a stranger: under load, an initiation
  # with a valid mac1 (only a replayed real one has it here) gets a cookie
  # reply, smaller than the initiation. At most one per replayed initiation.
  ((cookie <= inits)) || fail "$node sent $cookie cookie replies for $inits replayed initiations"
  # Its own registrations and keepalives to the server: a few per second at
  # most, where one answer per hostile rendezvous message would be hundreds.
  ((rdv <= 10 + 5 * tw)) || fail "$node sent $rdv rendezvous messages to $LAB_PUB1:$rdv_port in $tw s"
  [[ -n $ep0 && $ep0 != null && $ep1 == "$ep0" ]] || fail "$node's endpoint moved: $ep0 -> $ep1"
  [[ $out == *replay_init=* && $out == *replay_data=* ]] || fail "no captured initiation or transport packet to replay"
  # Every hostile datagram that reached the socket is dropped and counted
  # once (the 1 % slack is for the kernel counting a GRO run once).
  ((ddrop >= reached * 99 / 100)) || fail "dropped grew by $ddrop, $reached datagrams reached the socket"
  ((ddrop <= sent + 100)) || fail "dropped grew by $ddrop, more than the $sent sent"
  ((rss1 - rss0 < RSS_BOUND_KIB)) || fail "VmRSS grew by $((rss1 - rss0)) KiB"
  [[ $(link_status "$node" "$link" state) == established ]] || fail "$node is $(link_status "$node" "$link" state)"
}

fault_ping_start a-peer 10.77.0.2 0.1 300
s0=$(date +%s)
echo "=== b-peer (public address): $COUNT datagrams from pub"
flood b-peer laptop "$b_pid" "$b_addr" $PORT "$COUNT"
m1=$(fault_ping_mark) s1=$(date +%s)

# a-peer is behind its NAT: the one way in for a stranger is the mapping
# a-peer keeps towards its rendezvous server, so the datagrams claim to come
# from the server's address and port (raw socket on pub).
refl=$(link_status a-peer home reflexive_endpoint)
[[ $refl =~ ^([0-9.]+):([0-9]+)$ ]] || fail "a-peer's reflexive endpoint is '$refl'"
echo "=== a-peer (behind a port-restricted NAT, mapping $refl): $((COUNT / 10)) datagrams from $LINK_RDV"
flood a-peer home "$a_pid" "${BASH_REMATCH[1]}" "${BASH_REMATCH[2]}" $((COUNT / 10)) --spoof-from "$LINK_RDV"
s2=$(date +%s)
fault_ping_stop
echo "ping a-peer -> b-peer during the flood at b-peer:"
fault_ping_report "$FAULT_PING_LOG" 0.1 0 "$m1" || fail "no ping count"
fault_ping_need $((s1 - s0 - 1)) 0.1 || fail "too few pings"
((FAULT_OUTAGE_MS <= 1000)) || fail "the ping stopped for $FAULT_OUTAGE_MS ms"
((FAULT_LOST * 100 <= FAULT_SENT * 2)) || fail "$FAULT_LOST of $FAULT_SENT pings lost"
echo "ping a-peer -> b-peer during the flood at a-peer:"
fault_ping_report "$FAULT_PING_LOG" 0.1 "$m1" || fail "no ping count"
fault_ping_need $((s2 - s1 - 1)) 0.1 || fail "too few pings"
((FAULT_OUTAGE_MS <= 1000)) || fail "the ping stopped for $FAULT_OUTAGE_MS ms"
((FAULT_LOST * 100 <= FAULT_SENT * 2)) || fail "$FAULT_LOST of $FAULT_SENT pings lost"

for f in "$LAB_DIR"/*.log; do
  if grep -q 'Sanitizer\|runtime error' "$f"; then cat "$f"; fail "sanitizer report in $f"; fi
done
link_cleanup
link_assert_clean
echo "PASS"
