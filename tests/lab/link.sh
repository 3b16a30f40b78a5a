# shellcheck shell=bash
# tests/lab/link.sh: runs the real link engine (tunnelctl, tunnel-rendezvous)
# on the lab of lab.sh. Owns the keys, configs, run directories and daemons
# of one test run; sourced by tests/lab/test_link_*.
#
# API (NODE is a lab node, LINK a link name = config name = interface name):
#   link_require                    lab_require, plus the built binaries (exit 77)
#   link_init                       after lab_init: work directory under LAB_DIR
#   link_genkey KEYNAME             new private key in the work dir; prints its public key
#   link_keyfile KEYNAME            path of that private key
#   link_rdv_start                  rendezvous server on pub at LINK_RDV_LISTEN (default LAB_PUB1:3478),
#                                   plus the options in LINK_RDV_ARGS (e.g. --alt-port 3479);
#                                   sets LINK_RDV (address), LINK_RDV_KEY (public key)
#   link_rdv_stat NAME              one counter of the server (SIGUSR1 + --stats file)
#   link_conf NODE LINK             config from stdin -> NODE's config dir (mode 0600)
#   link_ctl NODE ARGS...           tunnelctl ARGS in NODE with NODE's config/run dirs; an
#                                   `up` in daemon mode runs under tests/lab/reap, which
#                                   records the daemon's exit status in NODE's dir (exits)
#   link_up NODE LINK [ARGS...]     `tunnelctl up LINK` (daemon mode) in NODE; records the
#                                   daemon for cleanup; returns tunnelctl's exit code
#   link_up_fg NODE LINK            `tunnelctl up LINK --foreground` via lab_spawn;
#                                   sets LINK_PID, LINK_LOG
#   link_down NODE LINK             `tunnelctl down LINK`
#   link_status NODE LINK FIELD     a field of `status LINK --json` (dotted: dropped.no_route);
#                                   JSON null prints "null"
#   link_wait_state NODE LINK SECS STATE...   until the state is one of STATE
#   link_daemon_pid NODE LINK       pid from the run dir's pid file
#   link_count_handshakes NODE      nftables counters in NODE of the WireGuard handshake
#                                   messages it sends (initiation, response; any link)
#   link_handshakes NODE            prints how many it sent since link_count_handshakes
#   link_cleanup                    down every link, stop daemons, lab_cleanup (which
#                                   prints the sanitizer reports of the run)
#   link_assert_clean               lab_assert_clean + no daemon, no run-dir file left,
#                                   every daemon exited 0 after down / TERM, no
#                                   sanitizer report
# Globals: LINK_BIN_CTL, LINK_BIN_RDV, LINK_DIR, LINK_RDV, LINK_RDV_KEY,
#   LINK_RDV_PID, LINK_RDV_STATS.

# shellcheck source=tests/lab/lab.sh
source "$(dirname "${BASH_SOURCE[0]}")/lab.sh"

LINK_SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
LINK_BUILD=${TUNNEL_BUILD_DIR:-$LINK_SRC/build/sanitize}
LINK_BIN_CTL=$LINK_BUILD/tunnel/tunnelctl
LINK_BIN_RDV=$LINK_BUILD/rendezvous/tunnel-rendezvous
LINK_REAP=$LINK_SRC/tests/lab/reap
# Foreground links and rendezvous servers stopped by lab_stop must exit 0.
LAB_EXIT0+=("$LINK_BIN_CTL" "$LINK_BIN_RDV")
LINK_DIR=""
LINK_RDV="" LINK_RDV_KEY="" LINK_RDV_PID="" LINK_RDV_STATS=""
# Daemons started by link_up: "NODE LINK" -> pid, so cleanup stops exactly them.
declare -gA LINK_DAEMONS=()
# Nodes whose run dirs we made (to check they are empty at the end).
declare -gA LINK_NODES=()
LINK_LEFT=""

_link_die() { printf 'link: %s\n' "$*" >&2; return 1; }

link_require() {
  lab_require
  local b
  for b in "$LINK_BIN_CTL" "$LINK_BIN_RDV"; do
    [[ -x $b ]] || { echo "link: skipped, $b is not built (TUNNEL_BUILD_DIR)" >&2; exit 77; }
  done
  command -v jq >/dev/null || { echo "link: skipped, jq is missing" >&2; exit 77; }
}

link_init() {
  [[ -n $LAB_DIR && -d $LAB_DIR ]] || { _link_die "lab_init first"; return 1; }
  LINK_DIR=$LAB_DIR/link
  mkdir -p "$LINK_DIR/keys" && chmod 0700 "$LINK_DIR" "$LINK_DIR/keys"
}

link_keyfile() { printf '%s\n' "$LINK_DIR/keys/$1.key"; }

link_genkey() {
  local f="$LINK_DIR/keys/$1.key"
  (umask 077 && "$LINK_BIN_CTL" genkey >"$f") || return 1
  "$LINK_BIN_CTL" pubkey <"$f"
}

# Sets _ND to NODE's directory (cfg/, run/); not in $(...), it records the node.
_link_nodedir() {
  _ND="$LINK_DIR/node/$1"
  [[ -n $LINK_DIR ]] || { _link_die "link_init first"; return 1; }
  if [[ -z ${LINK_NODES[$1]:-} ]]; then
    mkdir -p "$_ND/cfg" "$_ND/run" && chmod 0700 "$_ND/cfg" "$_ND/run" || return 1
    LINK_NODES[$1]=$_ND
  fi
}

_link_grep_log() { grep -qF -- "$1" "$2" 2>/dev/null; }

link_rdv_start() {
  local listen=${LINK_RDV_LISTEN:-$LAB_PUB1:3478} extra=()
  # LINK_RDV_ARGS: more tunnel-rendezvous options, e.g. "--alt-port 3479"
  read -ra extra <<<"${LINK_RDV_ARGS:-}"
  LINK_RDV_KEY=$(link_genkey rendezvous) || return 1
  LINK_RDV_STATS=$LINK_DIR/rendezvous.stats
  lab_spawn pub "$LINK_BIN_RDV" --key "$(link_keyfile rendezvous)" --listen "$listen" \
    --foreground --stats "$LINK_RDV_STATS" "${extra[@]}"
  LINK_RDV_PID=$LAB_PID
  LINK_RDV=$listen
  local log=$LAB_LOG
  # The public key line comes after the socket is bound and signals are blocked.
  lab_wait_until 10 _link_grep_log "$LINK_RDV_KEY" "$log" || { cat "$log" >&2; return 1; }
}

# The server writes its counters on SIGUSR1 (write + rename): remove the old
# file, signal, wait for the new one.
link_rdv_stat() {
  [[ -n $LINK_RDV_PID ]] || { _link_die "no rendezvous server"; return 1; }
  rm -f "$LINK_RDV_STATS"
  kill -USR1 "$LINK_RDV_PID" || return 1
  lab_wait_until 5 test -s "$LINK_RDV_STATS" || return 1
  awk -v k="$1" '$1 == k { print $2; found = 1 } END { exit !found }' "$LINK_RDV_STATS" ||
    { _link_die "no counter '$1' in the rendezvous stats"; return 1; }
}

link_conf() {
  local node=$1 name=$2 d
  _link_nodedir "$node" || return 1; d=$_ND
  (umask 077 && cat >"$d/cfg/$name.conf") || return 1
  chmod 0600 "$d/cfg/$name.conf"
}

# Sets line to reaper $1's "R cmd CODE" line in file $2, if it is there.
_link_cmd_line() {
  local r w c
  [[ -e $2 ]] || return 1
  while read -r r w c; do
    if [[ $r == "$1" && $w == cmd ]]; then line="$r $w $c"; return 0; fi
  done <"$2"
  return 1
}

link_ctl() {
  local node=$1 d a rp line n; shift
  _link_nodedir "$node" || return 1; d=$_ND
  # Sanitizer reports of tunnelctl (and of a daemon it forks): san/NODE-ctl.PID
  local san=(ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}log_path=$LAB_DIR/san/$node-ctl"
    UBSAN_OPTIONS="${UBSAN_OPTIONS:+$UBSAN_OPTIONS:}log_path=$LAB_DIR/san/$node-ctl")
  if [[ ${1:-} != up ]] || [[ " $* " == *" --foreground "* ]]; then
    lab_exec "$node" env "${san[@]}" TUNNEL_CONFIG_DIR="$d/cfg" TUNNEL_RUN_DIR="$d/run" \
      "$LINK_BIN_CTL" "$@"
    return
  fi
  # Daemon mode: the daemon outlives `up`; tests/lab/reap adopts it and
  # records its exit status for link_cleanup. `up`'s own status comes back
  # as "R cmd CODE" (R: the reaper's PID: a simple command in the
  # background, and ip netns exec execs, so $! is the reaper itself).
  _lab_log "[$node] tunnelctl $*"
  ip netns exec "$(lab_ns "$node")" "$LINK_REAP" "$d/exits" \
    env "${san[@]}" TUNNEL_CONFIG_DIR="$d/cfg" TUNNEL_RUN_DIR="$d/run" "$LINK_BIN_CTL" "$@" &
  rp=$!
  # Polled often and without forks (tests time `up`): 3600 s at most.
  line=""
  for ((n = 0; n < 180000; n++)); do
    _link_cmd_line "$rp" "$d/exits" && break
    if lab_gone "$rp"; then
      _link_cmd_line "$rp" "$d/exits" && break
      _link_die "tests/lab/reap $rp ended without tunnelctl's status"; return 1
    fi
    sleep 0.02
  done
  # No daemon under the reaper (a refused `up`): let it end first, so that
  # it never shows as a process of the namespace after we return.
  # (/proc files have size 0: read the list, do not test -s.)
  local kids
  for ((n = 0; n < 250; n++)); do
    lab_gone "$rp" && break
    kids=""
    read -r kids 2>/dev/null <"/proc/$rp/task/$rp/children" || true
    [[ -z $kids ]] || break
    sleep 0.02
  done
  a=${line##* }
  [[ $a =~ ^-?[0-9]+$ ]] || { _link_die "tunnelctl up: no exit status from tests/lab/reap"; return 1; }
  ((a >= 0)) || a=$((128 - a))
  return "$a"
}

link_daemon_pid() {
  local f="$LINK_DIR/node/$1/run/$2.pid" pid
  [[ -f $f ]] || return 1
  read -r pid <"$f" || return 1
  [[ $pid =~ ^[0-9]+$ ]] || return 1
  printf '%s\n' "$pid"
}

# `tunnelctl up` in daemon mode, the command a user runs. The daemon is a
# grandchild we do not hold, so its pid (from the pid file) is recorded to
# stop exactly it later.
link_up() {
  local node=$1 name=$2 rc=0 pid; shift 2
  link_ctl "$node" up "$name" "$@" || rc=$?
  if pid=$(link_daemon_pid "$node" "$name"); then LINK_DAEMONS["$node $name"]=$pid; fi
  return $rc
}

# Records the daemon of NODE's LINK for cleanup (after an `up` that ran in
# the background, where link_up's bookkeeping would be lost).
link_track() {
  local pid
  pid=$(link_daemon_pid "$1" "$2") || { _link_die "no pid file for $2 on $1"; return 1; }
  LINK_DAEMONS["$1 $2"]=$pid
}

link_up_fg() {
  local node=$1 name=$2 d
  _link_nodedir "$node" || return 1; d=$_ND
  lab_spawn "$node" env TUNNEL_CONFIG_DIR="$d/cfg" TUNNEL_RUN_DIR="$d/run" \
    "$LINK_BIN_CTL" up "$name" --foreground
  # shellcheck disable=SC2034 # for the tests
  LINK_PID=$LAB_PID LINK_LOG=$LAB_LOG
}

link_down() { link_ctl "$1" down "$2"; }

link_status() {
  local node=$1 name=$2 field=$3 d json
  _link_nodedir "$node" || return 1; d=$_ND
  json=$(ip netns exec "$(lab_ns "$node")" env TUNNEL_RUN_DIR="$d/run" \
    "$LINK_BIN_CTL" status "$name" --json 2>/dev/null) || return 1
  jq -er --arg n "$name" --arg f "$field" \
    '.[] | select(.name == $n) | getpath($f | split(".")) | if . == null then "null" else tostring end' \
    <<<"$json"
}

_link_state_in() {
  local node=$1 name=$2 s w; shift 2
  s=$(link_status "$node" "$name" state) || return 1
  for w in "$@"; do [[ $s == "$w" ]] && return 0; done
  return 1
}

link_wait_state() {
  local node=$1 name=$2 secs=$3; shift 3
  lab_wait_until "$secs" _link_state_in "$node" "$name" "$@"
}

# Initiation: type 1, 148 bytes; response: type 2, 92 bytes (UDP length
# +8); the first word of the payload is the type and three zero bytes. A
# handshake between two nodes makes each of them send one of the two.
link_count_handshakes() {
  lab_exec "$1" nft -f - <<'EOF'
table inet tnlcount {
  chain out {
    type filter hook output priority 0;
    udp length 156 @th,64,32 0x01000000 counter
    udp length 100 @th,64,32 0x02000000 counter
  }
}
EOF
}

link_handshakes() {
  lab_exec "$1" nft list table inet tnlcount |
    awk '/packets/ { for (i = 1; i < NF; i++) if ($i == "packets") n += $(i + 1) } END { print n + 0 }'
}

# link_pair NODE1 LINK1 NODE2 LINK2: the configs of one link between two
# nodes, NODE1 = 10.77.0.1 / fd77::1, NODE2 = 10.77.0.2 / fd77::2; LINK1 is
# the link's name on NODE1 (a laptop runs `up home`). Tunables (unset =
# default): LINK_KEEPALIVE, LINK_ALLOWED1 / LINK_ALLOWED2 (extra AllowedIPs
# NODE1 / NODE2 accepts from the other), LINK_ENDPOINT1 / LINK_ENDPOINT2
# (static Endpoint NODE1 / NODE2 uses), LINK_PORT1 / LINK_PORT2 (ListenPort),
# LINK_NO_RDV=1 (no Rendezvous), LINK_IFACE_EXTRA (more [Interface] lines,
# both sides, e.g. "Punch = basic"). Keys are made once per node.
link_pair() {
  local n1=$1 l1=$2 n2=$3 l2=$4 pub1 pub2
  pub1=$(_link_nodekey "$n1") && pub2=$(_link_nodekey "$n2") || return 1
  _link_conf_one "$n1" "$l1" 1 "$pub2" "10.77.0.2/32, fd77::2/128${LINK_ALLOWED1:+, $LINK_ALLOWED1}" \
    "${LINK_ENDPOINT1:-}" "${LINK_PORT1:-}" || return 1
  _link_conf_one "$n2" "$l2" 2 "$pub1" "10.77.0.1/32, fd77::1/128${LINK_ALLOWED2:+, $LINK_ALLOWED2}" \
    "${LINK_ENDPOINT2:-}" "${LINK_PORT2:-}"
}

_link_nodekey() {
  local f; f=$(link_keyfile "node-$1")
  if [[ -f $f ]]; then "$LINK_BIN_CTL" pubkey <"$f"; else link_genkey "node-$1"; fi
}

_link_conf_one() {
  local node=$1 name=$2 i=$3 peerpub=$4 allowed=$5 endpoint=$6 port=$7
  {
    echo "[Interface]"
    echo "PrivateKeyFile = $(link_keyfile "node-$node")"
    echo "Address = 10.77.0.$i/24, fd77::$i/64"
    [[ -z $port ]] || echo "ListenPort = $port"
    [[ -z ${LINK_IFACE_EXTRA:-} ]] || echo "$LINK_IFACE_EXTRA"
    if [[ -z ${LINK_NO_RDV:-} ]]; then
      echo "Rendezvous = $LINK_RDV"
      echo "RendezvousKey = $LINK_RDV_KEY"
    fi
    echo
    echo "[Peer]"
    echo "PublicKey = $peerpub"
    echo "AllowedIPs = $allowed"
    [[ -z $endpoint ]] || echo "Endpoint = $endpoint"
    [[ -z ${LINK_KEEPALIVE:-} ]] || echo "PersistentKeepalive = $LINK_KEEPALIVE"
  } | link_conf "$node" "$name"
}

# Is pid $1 a tunnelctl process (and so still ours, not a reused pid)?
# Compared by device and inode, not by the text of readlink /proc/PID/exe:
# `ip netns exec` gives the daemon a mount namespace of its own, and from a
# chroot (a fresh Debian root, tests/fresh) the link of a process in another
# mount namespace reads as the host's path, never equal to LINK_BIN_CTL; the
# daemon was then taken for gone and outlived its test.
_link_is_daemon() {
  local exe
  exe=$(stat -L -c %d:%i "/proc/$1/exe" 2>/dev/null) || return 1
  [[ $exe == "$(stat -L -c %d:%i "$LINK_BIN_CTL")" ]]
}

# The parent of daemon $1, if it is a tests/lab/reap of node dir $2.
_link_reaper() {
  local stat rest ppid
  stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
  rest=${stat##*) }
  read -r _ ppid _ <<<"$rest"
  grep -q "^$ppid start\$" "$2/exits" 2>/dev/null && printf '%s\n' "$ppid"
}

_link_exit_line() { grep -m1 "^$1 exit $2 " "$3" 2>/dev/null; }

# _link_wait_gone SECS PID: true once PID has exited (lab_gone), polled
# every 0.1 s for SECS seconds at most; false if it still runs then (the
# caller says what that means).
_link_wait_gone() {
  local n
  for ((n = 0; n < $1 * 10; n++)); do
    lab_gone "$2" && return 0
    sleep 0.1
  done
  lab_gone "$2"
}

link_cleanup() {
  local k pid n f rp line
  LINK_LEFT=""
  # Daemons we did not get to record (a test that failed half-way, or a
  # helper that ran in a subshell): every node directory, not only the
  # ones this shell remembers.
  for f in "$LINK_DIR"/node/*/run/*.pid; do
    [[ -e $f ]] || continue
    k=${f%/run/*}
    k=${k##*/}
    n=${f##*/}
    # (Foreground links are lab_spawn's: lab_stop TERMs them below.)
    if pid=$(link_daemon_pid "$k" "${n%.pid}") && _link_is_daemon "$pid" &&
      [[ -z ${LAB_PARENT[$pid]:-} ]]; then
      [[ -n ${LINK_DAEMONS["$k ${n%.pid}"]:-} ]] || LINK_DAEMONS["$k ${n%.pid}"]=$pid
    fi
  done
  for k in "${!LINK_DAEMONS[@]}"; do
    pid=${LINK_DAEMONS[$k]}
    _link_is_daemon "$pid" || continue
    f=$LINK_DIR/node/${k%% *}
    rp=$(_link_reaper "$pid" "$f") || rp=""
    # shellcheck disable=SC2086 # "NODE LINK"
    link_down $k >&2 || LINK_LEFT+=" (down $k failed)"
    # down waits for the daemon itself; this is a second bound, for a
    # sanitized daemon's exit on a loaded machine.
    if ! _link_wait_gone 10 "$pid" && _link_is_daemon "$pid"; then
      LINK_LEFT+=" daemon $pid ($k) survived down"
      kill -KILL "$pid" 2>/dev/null || true
    fi
    if [[ -z $rp ]]; then
      echo "link: daemon $pid ($k) was not started by link_ctl: its exit status is not known" >&2
      continue
    fi
    line=""
    for ((n = 0; n < 100; n++)); do
      line=$(_link_exit_line "$rp" "$pid" "$f/exits") && break
      sleep 0.1
    done
    [[ -n $line ]] || LINK_LEFT+=" daemon $pid ($k): no exit status from tests/lab/reap $rp"
    # The reaper ends with its last child.
    _link_wait_gone 5 "$rp" || true
  done
  # Every daemon-mode daemon of the run, also those the test downed itself,
  # must have exited 0 (-9: a test's deliberate SIGKILL).
  for f in "$LINK_DIR"/node/*/exits; do
    [[ -e $f ]] || continue
    while read -r rp _ pid code; do
      LINK_LEFT+=" daemon $pid (${f%/exits}) exited with status $code, not 0"
    done < <(awk '$2 == "exit" && $4 != 0 && $4 != -9' "$f")
  done
  # Foreground links and the server get TERM now, so that their run-dir
  # files can be checked before lab_cleanup removes the work directory;
  # lab_stop records a daemon that does not exit 0 (LAB_BAD).
  for pid in "${LAB_PIDS[@]}"; do
    [[ -z ${LAB_PARENT[$pid]:-} ]] || lab_stop "$pid" || true
  done
  for f in "$LINK_DIR"/node/*/run/*; do
    [[ -e $f ]] && LINK_LEFT+=" file $f"
  done
  LINK_NODES=()
  lab_cleanup
}

link_assert_clean() {
  local k pid left=${LINK_LEFT:-}
  for k in "${!LINK_DAEMONS[@]}"; do
    pid=${LINK_DAEMONS[$k]}
    ! _link_is_daemon "$pid" || left+=" daemon $pid ($k)"
  done
  if [[ -n $left ]]; then
    printf 'link: left behind:%s\n' "$left" >&2
    return 1
  fi
  lab_assert_clean
}
