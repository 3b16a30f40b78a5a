# shellcheck shell=bash
# tests/lab/fault.sh: traffic probes for the fault scenarios of issue 7
# (tests/lab/test_fault_*.sh): a ping whose losses and longest outage are
# counted, a paced TCP stream that must survive, the daemon's memory and drop
# counters. Sourced after link.sh.
#
# API:
#   fault_ping_start NODE DST INTERVAL SECS   background ping; sets FAULT_PING_PID, FAULT_PING_LOG
#   fault_ping_stop                          end that ping now (SIGINT: it prints its summary)
#   fault_ping_mark                          last sequence number that ping sent so far
#   fault_ping_report LOG INTERVAL [LO [HI]] prints "sent S received R lost L
#                                            longest_outage_s X" for the probes after
#                                            sequence number LO up to HI (marks; 0 =
#                                            all); sets FAULT_SENT FAULT_RECV
#                                            FAULT_LOST FAULT_OUTAGE_MS; fails when
#                                            ping printed no summary or sent nothing
#   fault_ping_need SECS INTERVAL            fails unless the last report counted at
#                                            least 80 % of the SECS / INTERVAL probes
#                                            a ping that kept going would have sent
#   fault_stream_start SRCNODE DSTNODE DSTADDR PORT SECS   1 MiB/s TCP stream with a
#                                            counter; sets FAULT_STREAM_SRV, FAULT_STREAM_CLI
#   fault_stream_check                       wait for both ends; print their summary;
#                                            fail unless the connection survived intact
#   fault_rss_kib PID                        VmRSS of a process in KiB
#   fault_dropped_sum NODE LINK              sum of the `dropped` counters
#   fault_ping_ok NODE DST                   one ping answered within 1 s
#   fault_now_s                              seconds since the epoch, 0.1 s precision

FAULT_HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
FAULT_PING_PID="" FAULT_PING_LOG=""
FAULT_STREAM_SRV="" FAULT_STREAM_CLI="" FAULT_STREAM_SRV_LOG="" FAULT_STREAM_CLI_LOG=""
FAULT_STREAM_SECS=0
FAULT_SENT=0 FAULT_RECV=0 FAULT_LOST=0 FAULT_OUTAGE_MS=0

fault_now_s() { date +%s.%N | cut -c1-12; }

fault_ping_start() {
  local node=$1 dst=$2 ival=$3 secs=$4
  lab_spawn "$node" ping -n -O -i "$ival" -w "$secs" -W 1 "$dst"
  FAULT_PING_PID=$LAB_PID FAULT_PING_LOG=$LAB_LOG
}

# SIGINT makes ping print its summary; its own -w deadline ends it anyway.
fault_ping_stop() {
  local n
  kill -INT "$FAULT_PING_PID" 2>/dev/null || true
  for ((n = 0; n < 50; n++)); do
    _lab_ours "$FAULT_PING_PID" || break
    [[ $(awk '{ sub(/.*\) /, ""); print $1 }' "/proc/$FAULT_PING_PID/stat" 2>/dev/null) == Z ]] && break
    sleep 0.1
  done
  lab_stop "$FAULT_PING_PID"
}

# The last sequence number the running ping sent (with -O it reports every
# probe: answered or "no answer yet"), to cut its log into phases.
fault_ping_mark() {
  awk '{ for (i = 1; i <= NF; i++) if ($i ~ /^icmp_seq=/) { s = substr($i, 10) + 0; if (s > m) m = s } }
    END { print m + 0 }' "$FAULT_PING_LOG"
}

# A missing run of sequence numbers is an outage of (run x INTERVAL) s.
# Duplicates are counted once. Only echo replies count as received: an ICMP
# error ("From X icmp_seq=N Destination Host Unreachable") is not an answer.
# The number sent comes from ping's own summary: a ping that was killed
# before it printed one (or never ran) fails the report.
fault_ping_report() {
  local log=$1 ival=$2 lo=${3:-0} hi=${4:-0} out summary miss
  FAULT_SENT=0 FAULT_RECV=0 FAULT_LOST=0 FAULT_OUTAGE_MS=0
  out=$(awk -v iv="$ival" -v lo="$lo" -v hi="$hi" '
    / bytes from / && /icmp_seq=/ {
      for (i = 1; i <= NF; i++) if ($i ~ /^icmp_seq=/) got[substr($i, 10) + 0] = 1
    }
    /packets transmitted/ { tx = $1 + 0; summary = 1 }
    END {
      lo = lo + 1; if (hi == 0 || hi > tx) hi = tx
      sent = 0; recv = 0; run = 0; best = 0; miss = ""; nmiss = 0
      for (s = lo; s <= hi; s++) {
        sent++
        if (s in got) { recv++; run = 0 } else {
          run++; if (run > best) best = run
          if (++nmiss <= 10) miss = miss (miss == "" ? "" : ",") s
        }
      }
      printf "%d %d %d %d %d %s\n", sent, recv, sent - recv, int((best * iv) * 1000 + 0.5), summary + 0, miss
    }' "$log") || { echo "ping: cannot read $log" >&2; return 1; }
  read -r FAULT_SENT FAULT_RECV FAULT_LOST FAULT_OUTAGE_MS summary miss <<<"$out"
  printf 'ping: sent %d received %d lost %d longest_outage_s %d.%01d%s\n' \
    "$FAULT_SENT" "$FAULT_RECV" "$FAULT_LOST" $((FAULT_OUTAGE_MS / 1000)) $((FAULT_OUTAGE_MS % 1000 / 100)) \
    "${miss:+ (lost icmp_seq $miss)}"
  ((summary)) || { echo "ping: no summary in $log (ping did not finish)" >&2; tail -3 "$log" >&2; return 1; }
  ((FAULT_SENT > 0)) || { echo "ping: no probe in the range ($lo, $hi] of $log" >&2; return 1; }
}

fault_ping_need() {
  local secs=$1 ival=$2 want
  want=$(awk -v s="$secs" -v i="$ival" 'BEGIN { print int(s / i * 0.8) }')
  ((FAULT_SENT >= want)) ||
    { echo "ping: sent $FAULT_SENT probes in $secs s, want >= $want (one per $ival s)" >&2; return 1; }
}

_fault_listening() { grep -q '^listening' "$1" 2>/dev/null; }

fault_stream_start() {
  local src=$1 dst=$2 addr=$3 port=$4 secs=$5
  FAULT_STREAM_SECS=$secs
  lab_spawn "$dst" python3 "$FAULT_HERE/fault_stream.py" server "$addr" "$port" $((secs + 40))
  FAULT_STREAM_SRV=$LAB_PID FAULT_STREAM_SRV_LOG=$LAB_LOG
  lab_wait_until 10 _fault_listening "$FAULT_STREAM_SRV_LOG" || { cat "$FAULT_STREAM_SRV_LOG" >&2; return 1; }
  lab_spawn "$src" python3 "$FAULT_HERE/fault_stream.py" client "$addr" "$port" "$secs"
  FAULT_STREAM_CLI=$LAB_PID FAULT_STREAM_CLI_LOG=$LAB_LOG
}

# Both ends exit on their own (the server's own deadline is SECS + 40).
fault_stream_check() {
  local rc_c=0 rc_s=0 n
  for ((n = 0; n < (FAULT_STREAM_SECS + 45) * 10; n++)); do
    _lab_ours "$FAULT_STREAM_SRV" || break
    [[ $(awk '{ sub(/.*\) /, ""); print $1 }' "/proc/$FAULT_STREAM_SRV/stat" 2>/dev/null) == Z ]] && break
    sleep 0.1
  done
  wait "$FAULT_STREAM_CLI" || rc_c=$?
  wait "$FAULT_STREAM_SRV" || rc_s=$?
  lab_stop "$FAULT_STREAM_CLI"; lab_stop "$FAULT_STREAM_SRV"
  cat "$FAULT_STREAM_CLI_LOG" "$FAULT_STREAM_SRV_LOG" | grep -v '^listening'
  ((rc_c == 0 && rc_s == 0)) || return 1
  local sent got want
  sent=$(sed -n 's/.*sent records=\([0-9]*\).*/\1/p' "$FAULT_STREAM_CLI_LOG")
  got=$(sed -n 's/^stream: records=\([0-9]*\).*/\1/p' "$FAULT_STREAM_SRV_LOG")
  [[ -n $sent && $sent == "$got" ]] || { echo "stream: sent $sent records, received $got" >&2; return 1; }
  # The client keeps to 1 MiB/s (256 records/s) whatever TCP does; fewer
  # records mean it did not run for its time.
  want=$((FAULT_STREAM_SECS * 256 * 9 / 10))
  ((sent >= want)) || { echo "stream: $sent records in $FAULT_STREAM_SECS s, want >= $want" >&2; return 1; }
}

fault_rss_kib() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status"; }

fault_dropped_sum() {
  local d json
  d=$LINK_DIR/node/$1/run
  json=$(ip netns exec "$(lab_ns "$1")" env TUNNEL_RUN_DIR="$d" "$LINK_BIN_CTL" status "$2" --json) || return 1
  jq -er --arg n "$2" '.[] | select(.name == $n) | .dropped | [.[]] | add' <<<"$json"
}

fault_ping_ok() { lab_exec "$1" ping -n -c 1 -W 1 "$2" >/dev/null 2>&1; }
