#!/usr/bin/env bash
# Lab test (issue 7 evidence 5): a bad path. a-router's public link loses 5 %
# of the packets and delays them 20 ms +- 10 ms in each direction, so they
# also arrive reordered (lab_netem: tc netem, or tests/lab/netem where the
# kernel lacks sch_netem). Both peers sit behind port-restricted NATs.
# `tunnelctl up` still establishes (handshake and probes retry), and a
# 32 MiB random file copied with scp over the tunnel arrives with the same
# SHA-256 (the replay window takes the reordered packets). The impairment is
# the tests/lab/netem relay's even where sch_netem exists, so that it counts
# what it did: at the end each direction must have lost and reordered frames
# (otherwise the copy proved nothing about a bad path).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/lab/link.sh
source "$here/link.sh"
# shellcheck source=tests/lab/fault.sh
source "$here/fault.sh"
link_require
for t in /usr/sbin/sshd ssh scp ssh-keygen sha256sum unshare; do
  command -v "$t" >/dev/null || { echo "skipped: $t is missing (openssh-server, openssh-client)" >&2; exit 77; }
done
if ! command -v ethtool >/dev/null && ! modinfo sch_netem >/dev/null 2>&1; then
  echo "skipped: no sch_netem and no ethtool for tests/lab/netem" >&2; exit 77
fi
trap link_cleanup EXIT
LAB_VERBOSE=0
LAB_NETEM_RELAY=1
MIB=${FAULT_NETEM_MIB:-32}
fail() { echo "FAIL: $*"; exit 1; }

lab_init
lab_site a port-restricted
lab_site b port-restricted
link_init
link_rdv_start
link_pair a-peer home b-peer laptop
lab_netem a-router delay 20ms 10ms loss 5% || fail "lab_netem refused the impairment"
echo "a-router public link: ${LAB_NETEM[a-router]:-netem relay} (delay 20ms 10ms loss 5%, both directions)"
echo "ping a-peer -> pub through it: $(lab_exec a-peer ping -q -n -c 20 -i 0.05 -W 2 "$LAB_PUB1" | grep -E 'loss|rtt' | tr '\n' ' ')"

link_up_fg b-peer laptop
t0=$(date +%s%N)
# In this shell, not in $(...): link_up records the daemon for cleanup.
link_up a-peer home --wait 30 >"$LAB_DIR/up.out" 2>&1 ||
  { cat "$LAB_DIR/up.out"; fail "up did not establish through the bad path"; }
echo "$(cat "$LAB_DIR/up.out") ($((($(date +%s%N) - t0) / 1000000)) ms)"
link_wait_state b-peer laptop 20 established || fail "b-peer not established"
echo "ping over the tunnel: $(lab_exec a-peer ping -q -n -c 20 -i 0.1 -W 2 10.77.0.2 | grep -E 'loss|rtt' | tr '\n' ' ')"

# sshd in home's namespace, reached at its tunnel address; the lossy path
# gets the longer connect timeout.
lab_sshd b-peer 20 || fail "sshd did not start"
sshd_pid=$LAB_SSHD_PID sshd_log=$LAB_SSHD_LOG

head -c $((MIB << 20)) /dev/urandom >"$LAB_DIR/big.src"
rx0=$(link_status b-peer laptop rx_bytes)
t0=$(date +%s%N)
lab_exec a-peer timeout 240 scp -q "${LAB_SSH[@]}" "$LAB_DIR/big.src" root@10.77.0.2:"$LAB_DIR/big.dst" ||
  { cat "$sshd_log"; fail "scp failed"; }
ms=$((($(date +%s%N) - t0) / 1000000))
src=$(sha256sum <"$LAB_DIR/big.src") dst=$(sha256sum <"$LAB_DIR/big.dst")
size=$(stat -c %s "$LAB_DIR/big.dst")
echo "scp $MIB MiB: $size bytes in $ms ms ($((size * 8 / 1000 / (ms ? ms : 1))) Mbit/s), b-peer rx +$(($(link_status b-peer laptop rx_bytes) - rx0)) bytes"
echo "sha256 sent     ${src%% *}"
echo "sha256 received ${dst%% *}"
[[ $size == $((MIB << 20)) && $src == "$dst" ]] || fail "the copy differs"
echo "b-peer dropped: $(link_ctl b-peer status laptop --json | jq -c '.[0].dropped')"

lab_stop "$sshd_pid"
lab_netem a-router off
# The relay's final counters, one line per direction.
relay_log=${LAB_NETEM_LOG[a-router]:-}
[[ -n $relay_log && -f $relay_log ]] || fail "no netem relay log"
dirs=0
while read -r fin lost reord name; do
  echo "relay $name: in $fin, lost $lost, reordered $reord"
  ((fin > 1000 && lost > 0 && reord > 0)) || fail "relay $name: the impairment did not happen (in $fin lost $lost reordered $reord)"
  dirs=$((dirs + 1))
done < <(sed -n 's/^netem: \([^:]*\): in \([0-9]*\) .* lost \([0-9]*\) .* reordered \([0-9]*\)$/\2 \3 \4 \1/p' "$relay_log")
((dirs == 2)) || { cat "$relay_log"; fail "$dirs direction lines in the relay's counters, want 2"; }
if grep -q 'Sanitizer\|runtime error' "$LAB_DIR"/*.log; then grep -l 'Sanitizer\|runtime error' "$LAB_DIR"/*.log; fail "sanitizer report"; fi
link_cleanup
link_assert_clean
echo "PASS"
