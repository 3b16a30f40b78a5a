# shellcheck shell=bash
# tests/lab/lab.sh: the virtual NAT lab. Sourced by lab tests, benchmarks and
# contrib/demo; owns every namespace, link and nftables ruleset of one lab run.
#
#                       +-----------------------------------------+
#                       | pub  198.51.100.1, 198.51.100.2          |
#                       |      2001:db8::1, 2001:db8::2            |
#                       +--------------------+--------------------+
#                                            |
#   +----------------------------------------+-----------------------------------+
#   | inet   bridge; gateway 198.51.100.254, 203.0.113.254, 2001:db8::ffff       |
#   +------------+---------------------------------------------+-----------------+
#                |                                             |
#   +------------+-------------+                 +-------------+------------+
#   | a-router 203.0.113.10    |                 | b-router 203.0.113.20    |
#   |  2001:db8::100:1  NAT    |                 |  2001:db8::100:2  NAT    |
#   |  LAN bridge 10.1.0.1/24  |                 |  LAN bridge 10.2.0.1/24  |
#   +---+-------------+--------+                 +---+-------------+--------+
#       |             |                              |             |
#   a-peer 10.1.0.2  a-host 10.1.0.10            b-peer 10.2.0.2  b-host 10.2.0.10
#   (a-peer2 10.1.0.3 with --peers 2)            (default route of X-host: X-peer)
#
#   Site number i is the order of lab_site calls (a=1, b=2, ...):
#     router public  203.0.113.(10*i)/24, 2001:db8::100:i/64
#     LAN            10.i.0.0/24: router .1, peer .2, peer2 .3, host .10
#     NAT "none"     LAN is public instead: 192.0.2.(16*i)/28 (router +1,
#                    peer +2, peer2 +3, host +10) and 2001:db8:i::/64 (::1,
#                    ::2, ::3, ::10); inet routes both to the router.
#     --cgnat TYPE   a second router "X-cgnat" in series holds the public
#                    address; X-router sits behind it on 100.64.i.2/24.
#   LANs behind a NAT are IPv4 only (no NAT66): the IPv6 path is between
#   public nodes (routers, pub, peers of "none" sites).
#
# API (NODE is a stable name such as pub, a-router, a-peer, a-host):
#   lab_require                     exit 77 with a reason unless root + netns + tools
#   lab_init                        start a lab: internet bridge + public host "pub"
#   lab_site NAME NAT [--peers N] [--cgnat NAT]
#                                   add site NAME (router, peer[, peer2], host)
#   lab_nat_set ROUTER NAT          change a router's NAT type (flushes its state)
#   lab_udp_timeout ROUTER SECS     conntrack UDP timeouts (+ cone bindings)
#   lab_flush ROUTER                forget all NAT state (conntrack -F, bindings)
#   lab_readdress ROUTER [ADDR]     new public IPv4 (default 203.0.113.(10*i+5))
#   lab_netem ROUTER ARGS...|off    tc netem words on the public link, both
#                                   directions; without sch_netem the
#                                   tests/lab/netem relay is spliced in
#   lab_cut ROUTER [down|up]        cut / restore the router's public link
#   lab_path_mtu ROUTER MTU [--drop-big] | off
#                                   a path MTU black hole on the public link: its MTU is
#                                   MTU (1280..1500), ICMP frag-needed / packet-too-big
#                                   the router sends or forwards is dropped; --drop-big
#                                   also drops forwarded packets above MTU that the router
#                                   would fragment (no DF) and any fragment; offloads off
#   lab_portmapper ROUTER [upnp|natpmp|pcp|all] [STUN_HOST:PORT]
#                                   miniupnpd on the router's LAN (tests/lab/README.md);
#                                   STUN default LAB_PUB1:3478 (a rendezvous server there)
#   lab_lan_bridge GW NODE [ADDR]   a second LAN behind node GW (a gateway bridging its
#                                   LAN: tests/lab/test_link_bridge): a bridge "lanbr" in GW
#                                   (made once) and a new node NODE on it, with ADDR/plen or
#                                   no address; NODE's interface name comes back in LAB_IF_A
#   lab_exec NODE CMD...            run CMD in NODE (printed when LAB_VERBOSE=1)
#   lab_spawn NODE CMD...           background CMD in NODE; sets LAB_PID, LAB_LOG; its
#                                   sanitizer reports go to LAB_DIR/san/NODE.N.PID
#   lab_stop PID                    TERM, then KILL after LAB_STOP_WAIT s (15); reaps it and
#                                   records its exit status in LAB_EXIT[PID] (see below)
#   lab_gone PID                    the process exited (a zombie counts: it has)
#   lab_wait_until SECS CMD...      poll CMD every 0.1 s until it succeeds
#   lab_sshd NODE [CONNECT_TIMEOUT] Debian's sshd in NODE (port 22 on every address, its own
#                                   keys, a private /run); sets LAB_SSH (ssh/scp options,
#                                   ConnectTimeout default 10), LAB_SSHD_PID, LAB_SSHD_LOG
#   lab_addr NODE / lab_addr6 NODE  print the node's main IPv4 / IPv6 address
#   lab_ns NODE                     print the real namespace name
#   lab_show                        table of nodes, namespaces, addresses, NAT types
#   lab_cleanup                     stop processes, read the sanitizer logs, delete every
#                                   namespace (and LAB_DIR if lab_init made it)
#   lab_assert_clean                fail if anything of this run is left, a sanitizer
#                                   wrote a report, or a LAB_EXIT0 program did not exit 0
#
# Sanitizers: lab_init exports ASAN_OPTIONS / UBSAN_OPTIONS (what the caller
# had, e.g. ctest's, plus detect_leaks=1 and log_path=LAB_DIR/san/...), so
# every sanitized program of the run reports to a file there, leaks at exit
# included. lab_cleanup prints every non-empty report after the processes
# are stopped and before LAB_DIR goes; lab_assert_clean then fails.
# Exit status: LAB_EXIT[PID] is the status lab_stop reaped ("killed" when
# TERM was not enough). A program listed in LAB_EXIT0 (full paths, e.g. the
# daemons link.sh runs) must exit 0 on TERM and must not die of a signal by
# itself (SIGKILL excepted: a test's deliberate kill); anything else is
# recorded in LAB_BAD and fails lab_assert_clean.
# Globals: LAB_ID (default $$; set before sourcing), LAB_VERBOSE (default 1),
#   LAB_DIR (logs; a temporary directory removed by lab_cleanup unless preset),
#   LAB_PUB1 LAB_PUB2 LAB_PUB6_1 LAB_PUB6_2 (the public host's addresses),
#   LAB_NETEM_RELAY (1: lab_netem always uses the relay, even with sch_netem).
# NAT types: none full-cone restricted-cone port-restricted symmetric.

LAB_ID=${LAB_ID:-$$}
LAB_VERBOSE=${LAB_VERBOSE:-1}
LAB_PREFIX="tnl${LAB_ID}"
LAB_PUB1=198.51.100.1
LAB_PUB2=198.51.100.2
LAB_PUB6_1=2001:db8::1
LAB_PUB6_2=2001:db8::2
LAB_NAT_TYPES="none full-cone restricted-cone port-restricted symmetric"
LAB_DIR=${LAB_DIR:-}
LAB_DIR_OWNED=0

# LAB_LANNET/LAB_LANNET6[router]: the LAN prefixes (for routes of later tests).
declare -gA LAB_NS=() LAB_ADDR=() LAB_ADDR6=() LAB_WANIF=() LAB_UPIF=() \
  LAB_UPNS=() LAB_WANADDR=() LAB_WANGW=() LAB_LANBR=() LAB_NAT=() \
  LAB_TIMEOUT=() LAB_SITEIDX=() LAB_LANNET=() LAB_LANNET6=() LAB_NETEM=() \
  LAB_NETEM_PID=() LAB_NETEM_LOG=() LAB_NETEM_UP=()
declare -ga LAB_PIDS=() LAB_EXIT0=() LAB_BAD=()
declare -gA LAB_PARENT=() LAB_CMD=() LAB_EXIT=()
LAB_STOP_WAIT=${LAB_STOP_WAIT:-15}
LAB_SAN_OPTS0="" LAB_UBSAN_OPTS0="" LAB_SAN_SET=0
LAB_NSITES=0
LAB_IFCOUNT=0
LAB_INITED=0

_lab_log() { ((LAB_VERBOSE)) && printf '+ %s\n' "$*" >&2; return 0; }
_lab_die() { printf 'lab: %s\n' "$*" >&2; return 1; }

lab_ns() {
  [[ -n ${LAB_NS[$1]:-} ]] || { _lab_die "unknown node '$1'"; return 1; }
  printf '%s\n' "${LAB_NS[$1]}"
}

lab_exec() {
  local node=$1; shift
  local ns; ns=$(lab_ns "$node") || return 1
  _lab_log "[$node] $*"
  ip netns exec "$ns" "$@"
}

# Setup commands: printed (LAB_VERBOSE=1) exactly as they run.
_lab_run() {
  _lab_log "$*"
  "$@" || { _lab_die "failed: $*"; return 1; }
}

# Quiet variant for polling loops and internal plumbing.
_lab_q() {
  local node=$1; shift
  ip netns exec "${LAB_NS[$node]}" "$@"
}

lab_require() {
  local t
  if ((EUID != 0)); then echo "lab: skipped, needs root (network namespaces)" >&2; exit 77; fi
  for t in ip nft conntrack sysctl /usr/bin/python3; do
    command -v "$t" >/dev/null || { echo "lab: skipped, $t is missing (contrib/install-deps)" >&2; exit 77; }
  done
  if ! ip netns add "${LAB_PREFIX}-probe" 2>/dev/null; then
    echo "lab: skipped, cannot create network namespaces here" >&2; exit 77
  fi
  ip netns del "${LAB_PREFIX}-probe"
}

# A veth pair from namespace $1 to namespace $2, never visible in the host
# namespace. Names come back in LAB_IF_A (in $1) and LAB_IF_B (in $2).
_lab_veth() {
  LAB_IF_A="${LAB_PREFIX}i$((LAB_IFCOUNT++))"
  LAB_IF_B="${LAB_PREFIX}i$((LAB_IFCOUNT++))"
  ((${#LAB_IF_B} <= 15)) || { _lab_die "interface name $LAB_IF_B too long (LAB_ID too long)"; return 1; }
  _lab_run ip -n "$1" link add "$LAB_IF_A" type veth peer name "$LAB_IF_B" netns "$2" || return 1
  _lab_run ip -n "$1" link set "$LAB_IF_A" up || return 1
  _lab_run ip -n "$2" link set "$LAB_IF_B" up || return 1
}

_lab_newns() {
  local node=$1 ns="${LAB_PREFIX}-$1"
  [[ -z ${LAB_NS[$node]:-} ]] || { _lab_die "node '$node' exists"; return 1; }
  _lab_run ip netns add "$ns" || return 1
  LAB_NS[$node]=$ns
  _lab_run ip -n "$ns" link set lo up || return 1
  # Bridges inside a namespace would hand frames to netfilter (br_netfilter).
  local k
  for k in iptables ip6tables arptables; do
    if [[ -e /proc/sys/net/bridge/bridge-nf-call-$k ]]; then
      _lab_run ip netns exec "$ns" sysctl -qw "net.bridge.bridge-nf-call-$k=0" || return 1
    fi
  done
  _lab_run ip netns exec "$ns" sysctl -qw net.ipv4.conf.all.send_redirects=0 \
    net.ipv4.conf.default.send_redirects=0 net.ipv4.conf.all.accept_redirects=0 \
    net.ipv6.conf.all.accept_redirects=0 net.ipv6.conf.all.accept_dad=0 \
    net.ipv6.conf.default.accept_dad=0 || return 1
}

_lab_bridge() {
  local ns=$1 name=$2 mac
  _lab_run ip -n "$ns" link add "$name" type bridge stp_state 0 forward_delay 0 || return 1
  # A bridge left to itself takes the lowest MAC of its ports, so a port
  # coming or going (a new site, lab_netem's relay) can change the gateway's
  # MAC under its neighbours' ARP caches. Set explicitly, it never moves.
  mac=$(ip -n "$ns" -o link show dev "$name" | sed -n 's|.* link/ether \([0-9a-f:]*\) .*|\1|p')
  [[ -n $mac ]] || { _lab_die "no MAC address on bridge $name"; return 1; }
  _lab_run ip -n "$ns" link set "$name" address "$mac" up || return 1
}

lab_init() {
  ((LAB_INITED == 0)) || { _lab_die "lab_init called twice"; return 1; }
  [[ $LAB_ID =~ ^[a-z0-9]{1,7}$ ]] || { _lab_die "LAB_ID '$LAB_ID': 1-7 of [a-z0-9]"; return 1; }
  if [[ -z $LAB_DIR ]]; then
    LAB_DIR=$(mktemp -d "/tmp/${LAB_PREFIX}.XXXXXX") || return 1
    LAB_DIR_OWNED=1
  fi
  mkdir -p "$LAB_DIR" "$LAB_DIR/san" || return 1
  _lab_san_env "$LAB_DIR/san/lab"
  LAB_INITED=1
  _lab_newns inet || return 1
  local br="${LAB_PREFIX}br" ns=${LAB_NS[inet]}
  LAB_LANBR[inet]=$br
  _lab_bridge "$ns" "$br" || return 1
  lab_exec inet sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1 || return 1
  _lab_run ip -n "$ns" addr add 198.51.100.254/24 dev "$br" || return 1
  _lab_run ip -n "$ns" addr add 203.0.113.254/24 dev "$br" || return 1
  _lab_run ip -n "$ns" addr add 2001:db8::ffff/64 dev "$br" nodad || return 1
  _lab_newns pub || return 1
  _lab_veth "${LAB_NS[pub]}" "$ns" || return 1
  _lab_run ip -n "$ns" link set "$LAB_IF_B" master "$br" || return 1
  local p=${LAB_NS[pub]}
  lab_exec pub ip addr add "$LAB_PUB1/24" dev "$LAB_IF_A" || return 1
  _lab_run ip -n "$p" addr add "$LAB_PUB2/24" dev "$LAB_IF_A" || return 1
  _lab_run ip -n "$p" addr add "$LAB_PUB6_1/64" dev "$LAB_IF_A" nodad || return 1
  _lab_run ip -n "$p" addr add "$LAB_PUB6_2/64" dev "$LAB_IF_A" nodad || return 1
  _lab_run ip -n "$p" route add default via 198.51.100.254 || return 1
  _lab_run ip -n "$p" -6 route add default via 2001:db8::ffff || return 1
  LAB_ADDR[pub]=$LAB_PUB1; LAB_ADDR6[pub]=$LAB_PUB6_1
}

# A router namespace attached upstream (to the inet bridge, or to the LAN
# bridge of an outer CGN router) with wan address $4/$5 and gateway $6.
_lab_router() {
  local node=$1 upnode=$2 nat=$3 addr=$4 plen=$5 gw=$6
  _lab_newns "$node" || return 1
  local ns=${LAB_NS[$node]} upns=${LAB_NS[$upnode]}
  _lab_veth "$ns" "$upns" || return 1
  _lab_run ip -n "$upns" link set "$LAB_IF_B" master "${LAB_LANBR[$upnode]}" || return 1
  LAB_WANIF[$node]=$LAB_IF_A; LAB_UPIF[$node]=$LAB_IF_B; LAB_UPNS[$node]=$upns
  LAB_WANADDR[$node]=$addr; LAB_WANGW[$node]=$gw; LAB_NAT[$node]=$nat
  LAB_TIMEOUT[$node]=30
  LAB_ADDR[$node]=$addr
  lab_exec "$node" ip addr add "$addr/$plen" dev "$LAB_IF_A" || return 1
  _lab_run ip -n "$ns" route add default via "$gw" || return 1
  _lab_run ip netns exec "$ns" sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1 || return 1
  local br="${LAB_PREFIX}b${LAB_IFCOUNT}"
  ((LAB_IFCOUNT++))
  LAB_LANBR[$node]=$br
  _lab_bridge "$ns" "$br"
}

# A LAN node (peer or host) on router $2's LAN bridge.
_lab_lannode() {
  local node=$1 router=$2 addr=$3 gw=$4 addr6=${5:-} gw6=${6:-}
  _lab_newns "$node" || return 1
  local ns=${LAB_NS[$node]} rns=${LAB_NS[$router]}
  _lab_veth "$ns" "$rns" || return 1
  _lab_run ip -n "$rns" link set "$LAB_IF_B" master "${LAB_LANBR[$router]}" || return 1
  lab_exec "$node" ip addr add "$addr" dev "$LAB_IF_A" || return 1
  _lab_run ip -n "$ns" route add default via "$gw" || return 1
  LAB_ADDR[$node]=${addr%/*}
  if [[ -n $addr6 ]]; then
    _lab_run ip -n "$ns" addr add "$addr6" dev "$LAB_IF_A" nodad || return 1
    _lab_run ip -n "$ns" -6 route add default via "$gw6" || return 1
    LAB_ADDR6[$node]=${addr6%/*}
  fi
}

lab_lan_bridge() {
  local gw=$1 node=$2 addr=${3:-} gns
  gns=${LAB_NS[$gw]:-}
  [[ -n $gns ]] || { _lab_die "lab_lan_bridge: no node '$gw'"; return 1; }
  if ! ip -n "$gns" link show lanbr >/dev/null 2>&1; then
    _lab_bridge "$gns" lanbr || return 1
  fi
  _lab_newns "$node" || return 1
  _lab_veth "${LAB_NS[$node]}" "$gns" || return 1
  _lab_run ip -n "$gns" link set "$LAB_IF_B" master lanbr || return 1
  if [[ -n $addr ]]; then
    lab_exec "$node" ip addr add "$addr" dev "$LAB_IF_A" || return 1
    LAB_ADDR[$node]=${addr%/*}
  fi
}

_lab_check_type() {
  [[ " $LAB_NAT_TYPES " == *" $1 "* ]] || { _lab_die "unknown NAT type '$1' (one of: $LAB_NAT_TYPES)"; return 1; }
}

lab_site() {
  local name=$1 nat=$2 peers=1 cgnat=""
  shift 2 || { _lab_die "usage: lab_site NAME NAT [--peers N] [--cgnat NAT]"; return 1; }
  while (($#)); do
    case $1 in
      --peers) peers=${2:-}; shift 2 || return 1 ;;
      --cgnat) cgnat=${2:-}; shift 2 || return 1 ;;
      *) _lab_die "lab_site: unknown option '$1'"; return 1 ;;
    esac
  done
  ((LAB_INITED)) || { _lab_die "lab_init first"; return 1; }
  [[ $name =~ ^[a-z][a-z0-9]{0,7}$ ]] || { _lab_die "site name '$name': 1-8 of [a-z0-9]"; return 1; }
  [[ $peers == 1 || $peers == 2 ]] || { _lab_die "--peers must be 1 or 2"; return 1; }
  _lab_check_type "$nat" || return 1
  [[ -z $cgnat ]] || _lab_check_type "$cgnat" || return 1
  [[ -z $cgnat || ( $nat != none && $cgnat != none ) ]] ||
    { _lab_die "--cgnat needs NAT types other than none"; return 1; }
  local i=$((++LAB_NSITES))
  ((i <= 15)) || { _lab_die "at most 15 sites"; return 1; }
  local r="$name-router" pubaddr="203.0.113.$((10 * i))" inet=${LAB_NS[inet]}
  LAB_SITEIDX[$r]=$i
  if [[ -n $cgnat ]]; then
    local c="$name-cgnat"
    LAB_SITEIDX[$c]=$i
    _lab_router "$c" inet "$cgnat" "$pubaddr" 24 203.0.113.254 || return 1
    _lab_run ip -n "${LAB_NS[$c]}" addr add "2001:db8::100:$i/64" dev "${LAB_WANIF[$c]}" nodad || return 1
    LAB_ADDR6[$c]="2001:db8::100:$i"
    _lab_run ip -n "${LAB_NS[$c]}" addr add "100.64.$i.1/24" dev "${LAB_LANBR[$c]}" || return 1
    _lab_router "$r" "$c" "$nat" "100.64.$i.2" 24 "100.64.$i.1" || return 1
    _lab_nat_apply "$c" || return 1
  else
    _lab_router "$r" inet "$nat" "$pubaddr" 24 203.0.113.254 || return 1
    _lab_run ip -n "${LAB_NS[$r]}" addr add "2001:db8::100:$i/64" dev "${LAB_WANIF[$r]}" nodad || return 1
    _lab_run ip -n "${LAB_NS[$r]}" -6 route add default via 2001:db8::ffff || return 1
    LAB_ADDR6[$r]="2001:db8::100:$i"
  fi
  local rns=${LAB_NS[$r]} br=${LAB_LANBR[$r]}
  if [[ $nat == none ]]; then
    local base=$((16 * i))
    LAB_LANNET[$r]="192.0.2.$base/28"
    # Read by tests that add routes to the public LAN.
    # shellcheck disable=SC2034
    LAB_LANNET6[$r]="2001:db8:$i::/64"
    _lab_run ip -n "$rns" addr add "192.0.2.$((base + 1))/28" dev "$br" || return 1
    _lab_run ip -n "$rns" addr add "2001:db8:$i::1/64" dev "$br" nodad || return 1
    lab_exec inet ip route add "192.0.2.$base/28" via "$pubaddr" || return 1
    _lab_run ip -n "$inet" -6 route add "2001:db8:$i::/64" via "2001:db8::100:$i" || return 1
    _lab_lannode "$name-peer" "$r" "192.0.2.$((base + 2))/28" "192.0.2.$((base + 1))" \
      "2001:db8:$i::2/64" "2001:db8:$i::1" || return 1
    ((peers == 1)) || _lab_lannode "$name-peer2" "$r" "192.0.2.$((base + 3))/28" \
      "192.0.2.$((base + 1))" "2001:db8:$i::3/64" "2001:db8:$i::1" || return 1
    _lab_lannode "$name-host" "$r" "192.0.2.$((base + 10))/28" "192.0.2.$((base + 2))" \
      "2001:db8:$i::10/64" "2001:db8:$i::2" || return 1
  else
    LAB_LANNET[$r]="10.$i.0.0/24"
    _lab_run ip -n "$rns" addr add "10.$i.0.1/24" dev "$br" || return 1
    _lab_lannode "$name-peer" "$r" "10.$i.0.2/24" "10.$i.0.1" || return 1
    ((peers == 1)) || _lab_lannode "$name-peer2" "$r" "10.$i.0.3/24" "10.$i.0.1" || return 1
    _lab_lannode "$name-host" "$r" "10.$i.0.10/24" "10.$i.0.2" || return 1
  fi
  # The peer routes for its LAN host (site-to-site through the tunnel later).
  _lab_run ip netns exec "${LAB_NS[$name-peer]}" sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1 || return 1
  _lab_nat_apply "$r"
}

# The nftables ruleset of router $1 for its NAT type, on stdout.
#   none             plain router: forwards everything, no translation
#   port-restricted  masquerade keeps the source port (EIM); only conntrack
#                    replies come back (address-and-port-dependent filtering)
#   symmetric        masquerade fully-random: a new port per destination
#   full-cone        EIM; every packet leaving records external port ->
#                    internal address:port in @bind, and any packet to that
#                    port is DNATed back (endpoint-independent filtering)
#   restricted-cone  as full-cone, but only from addresses in @seen, the
#                    (external port, remote address) pairs sent to (ADF)
# All types drop unsolicited packets to the router itself: an early punch
# packet must not leave a conntrack entry that would move a later mapping.
_lab_nat_rules() {
  local r=$1 w=${LAB_WANIF[$1]} nat=${LAB_NAT[$1]} to=${LAB_TIMEOUT[$1]}
  local t="${LAB_PREFIX}nat"
  echo "table inet $t {"
  if [[ $nat == full-cone || $nat == restricted-cone ]]; then
    cat <<EOF
  map bind { type inet_service : ipv4_addr . inet_service; flags dynamic,timeout; timeout ${to}s; }
  set seen { type inet_service . ipv4_addr; flags dynamic,timeout; timeout ${to}s; }
  chain learn {
    type filter hook postrouting priority srcnat + 10; policy accept;
    oifname "$w" meta nfproto ipv4 meta l4proto udp ct direction original update @bind { udp sport : ct original ip saddr . ct original proto-src }
    oifname "$w" meta nfproto ipv4 meta l4proto udp ct direction reply update @bind { udp sport : ct reply ip saddr . ct reply proto-src }
    oifname "$w" meta nfproto ipv4 meta l4proto udp update @seen { udp sport . ip daddr }
  }
EOF
    local match=""
    [[ $nat == restricted-cone ]] && match="udp dport . ip saddr @seen"
    cat <<EOF
  chain pre {
    type nat hook prerouting priority dstnat; policy accept;
    iifname "$w" meta nfproto ipv4 meta l4proto udp fib daddr type local $match dnat ip to udp dport map @bind
  }
EOF
  fi
  if [[ $nat != none ]]; then
    local mode=""
    [[ $nat == symmetric ]] && mode=" fully-random"
    cat <<EOF
  chain post {
    type nat hook postrouting priority srcnat; policy accept;
    oifname "$w" meta nfproto ipv4 masquerade$mode
  }
EOF
  fi
  local fwd_policy=drop
  [[ $nat == none ]] && fwd_policy=accept
  cat <<EOF
  chain input {
    type filter hook input priority filter; policy accept;
    iifname "$w" ct state established,related accept
    iifname "$w" meta l4proto { icmp, ipv6-icmp } accept
    iifname "$w" counter drop
  }
  chain forward {
    type filter hook forward priority filter; policy $fwd_policy;
    iifname != "$w" accept
    ct state established,related accept
    ct status dnat accept
  }
}
EOF
}

_lab_nat_apply() {
  local r=$1 ns=${LAB_NS[$1]} t="${LAB_PREFIX}nat" rules
  rules=$(_lab_nat_rules "$r") || return 1
  _lab_log "[$r] nft -f - (table inet $t, NAT ${LAB_NAT[$r]}, UDP timeout ${LAB_TIMEOUT[$r]}s)"
  # One transaction: the old ruleset is replaced with no unfiltered moment.
  ip netns exec "$ns" nft -f - <<<"table inet $t {}
delete table inet $t
$rules" || { _lab_die "nft rejected the $r ruleset"; return 1; }
  # Only now: on modular kernels the conntrack sysctls appear with the first
  # ruleset that needs conntrack.
  _lab_run ip netns exec "$ns" sysctl -qw "net.netfilter.nf_conntrack_udp_timeout=${LAB_TIMEOUT[$r]}" \
    "net.netfilter.nf_conntrack_udp_timeout_stream=${LAB_TIMEOUT[$r]}" || return 1
}

_lab_is_router() {
  [[ -n ${LAB_NAT[$1]:-} ]] || { _lab_die "'$1' is not a router"; return 1; }
}

lab_nat_set() {
  local r=$1 nat=$2
  _lab_is_router "$r" && _lab_check_type "$nat" || return 1
  [[ ${LAB_NAT[$r]} != none && $nat != none ]] ||
    { _lab_die "lab_nat_set: 'none' changes the addressing; choose it in lab_site"; return 1; }
  LAB_NAT[$r]=$nat
  _lab_nat_apply "$r" && lab_flush "$r"
}

lab_udp_timeout() {
  local r=$1 secs=$2
  _lab_is_router "$r" || return 1
  if ! [[ $secs =~ ^[0-9]+$ ]] || ((secs < 1 || secs > 86400)); then
    _lab_die "bad timeout '$secs'"; return 1
  fi
  LAB_TIMEOUT[$r]=$secs
  if [[ ${LAB_NAT[$r]} == *cone ]]; then
    # The cone bindings live as long as a conntrack entry would.
    _lab_nat_apply "$r"
  else
    lab_exec "$r" sysctl -qw "net.netfilter.nf_conntrack_udp_timeout=$secs" \
      "net.netfilter.nf_conntrack_udp_timeout_stream=$secs"
  fi
}

lab_flush() {
  local r=$1 t="${LAB_PREFIX}nat"
  _lab_is_router "$r" || return 1
  lab_exec "$r" conntrack -F 2>/dev/null || { _lab_die "conntrack -F failed in $r"; return 1; }
  if [[ ${LAB_NAT[$r]} == *cone ]]; then
    _lab_q "$r" nft flush map inet "$t" bind && _lab_q "$r" nft flush set inet "$t" seen || return 1
  fi
}

lab_readdress() {
  local r=$1 new=${2:-}
  _lab_is_router "$r" || return 1
  local old=${LAB_WANADDR[$r]} w=${LAB_WANIF[$r]} i=${LAB_SITEIDX[$r]}
  if [[ -z $new ]]; then
    # Alternate between two spare addresses of the site on repeated calls.
    new="${old%.*}.$((10 * i + 5))"
    [[ $new != "$old" ]] || new="${old%.*}.$((10 * i + 6))"
  fi
  [[ $new =~ ^[0-9]+\.[0-9]+\.[0-9]+\.[0-9]+$ ]] || { _lab_die "bad address '$new'"; return 1; }
  [[ $new != "$old" ]] || { _lab_die "$r already has $new"; return 1; }
  local plen=24
  # Deleting the address also drops the masqueraded conntrack entries on it.
  lab_exec "$r" ip addr del "$old/$plen" dev "$w" || return 1
  lab_exec "$r" ip addr add "$new/$plen" dev "$w" || return 1
  _lab_q "$r" ip route replace default via "${LAB_WANGW[$r]}" || return 1
  if [[ ${LAB_NAT[$r]} == none ]]; then
    lab_exec inet ip route replace "${LAB_LANNET[$r]}" via "$new" || return 1
  fi
  LAB_WANADDR[$r]=$new; LAB_ADDR[$r]=$new
}

# lab_portmapper ROUTER [upnp|natpmp|pcp|all] [STUN_HOST:PORT]: a real port
# mapper, miniupnpd (Debian miniupnpd-nftables), on the router's LAN bridge,
# started directly with its own config in LAB_DIR. Sets LAB_PID/LAB_LOG (its
# process) and LAB_UPNP_TABLE (the nft table holding its rules: chain
# prerouting_miniupnpd has one dnat rule per mapping).
# What makes miniupnpd 2.3.1 forward for real in the lab (README.md):
#   - the WAN address 203.0.113.x is reserved, so miniupnpd refuses it unless
#     ext_perform_stun=yes finds it "unrestricted": the STUN server (our
#     rendezvous server answers RFC 5389 Binding requests, CHANGE-REQUEST or
#     not) must answer all four of its requests from its own address with
#     the router's own source ports unchanged;
#   - so the router's own traffic is pinned to its own ports (table
#     LAB_PREFIX"upself": snat to itself, before the lab's masquerade, which
#     a symmetric router does fully-random); LAN traffic is NATed as before;
#   - its nft table and chains exist before it starts (it only adds rules).
# One protocol only: miniupnpd serves NAT-PMP and PCP on one switch and one
# port, so "natpmp" drops PCP requests (version 2) and "pcp" NAT-PMP requests
# (version 0) at the router's own input from the LAN.
# LAB_PORTMAPPER_LIFETIME=S: PCP grants S or S+1 seconds (min_lifetime and
# max_lifetime, which must differ), so a test can watch renewals.
lab_portmapper() {
  local r=$1 proto=${2:-all} stun=${3:-$LAB_PUB1:3478}
  _lab_is_router "$r" || return 1
  [[ ${LAB_NAT[$r]} != none ]] || { _lab_die "lab_portmapper: $r does no NAT"; return 1; }
  local ns=${LAB_NS[$r]} w=${LAB_WANIF[$r]} lan=${LAB_LANBR[$r]} wa=${LAB_WANADDR[$r]}
  local t="${LAB_PREFIX}upnp" conf="$LAB_DIR/miniupnpd-$r.conf" natpmp=yes upnp=yes drop=""
  case $proto in
    all) ;;
    upnp) natpmp=no ;;
    natpmp) upnp=no; drop="iifname \"$lan\" udp dport 5351 @th,64,8 2 drop" ;;
    pcp) upnp=no; drop="iifname \"$lan\" udp dport 5351 @th,64,8 0 drop" ;;
    *) _lab_die "lab_portmapper ROUTER [upnp|natpmp|pcp|all]"; return 1 ;;
  esac
  _lab_log "[$r] nft: tables $t (miniupnpd's chains) and ${LAB_PREFIX}upself"
  ip netns exec "$ns" nft -f - <<EOF || { _lab_die "nft rejected the miniupnpd tables"; return 1; }
table ip ${LAB_PREFIX}upself {
  chain post {
    type nat hook postrouting priority srcnat - 10; policy accept;
    oifname "$w" ip saddr $wa snat ip to $wa
  }
}
table inet $t {
  chain input {
    type filter hook input priority filter - 5; policy accept;
    $drop
  }
  chain forward {
    type filter hook forward priority filter - 5; policy accept;
    jump miniupnpd
  }
  chain miniupnpd {
  }
  chain prerouting {
    type nat hook prerouting priority dstnat - 5; policy accept;
    jump prerouting_miniupnpd
  }
  chain postrouting {
    type nat hook postrouting priority srcnat - 5; policy accept;
    jump postrouting_miniupnpd
  }
  chain prerouting_miniupnpd {
  }
  chain postrouting_miniupnpd {
  }
}
EOF
  cat >"$conf" <<EOF
ext_ifname=$w
listening_ip=$lan
enable_natpmp=$natpmp
enable_upnp=$upnp
secure_mode=yes
system_uptime=no
ext_perform_stun=yes
ext_stun_host=${stun%:*}
ext_stun_port=${stun##*:}
upnp_table_name=$t
upnp_nat_table_name=$t
lease_file=$LAB_DIR/miniupnpd-$r.leases
${LAB_PORTMAPPER_LIFETIME:+min_lifetime=$LAB_PORTMAPPER_LIFETIME}
${LAB_PORTMAPPER_LIFETIME:+max_lifetime=$((LAB_PORTMAPPER_LIFETIME + 1))}
allow 1024-65535 ${LAB_LANNET[$r]} 1024-65535
deny 0-65535 0.0.0.0/0 0-65535
EOF
  # shellcheck disable=SC2034 # read by the tests
  LAB_UPNP_TABLE=$t
  lab_spawn "$r" miniupnpd -d -f "$conf" -P "$LAB_DIR/miniupnpd-$r.pid" || return 1
  # Up once the STUN test has run and its sockets listen (a few seconds).
  local log=$LAB_LOG
  lab_wait_until 15 grep -q 'Listening for NAT-PMP/PCP\|HTTP listening' "$log" ||
    { _lab_die "miniupnpd did not start: $(tail -n 5 "$log")"; return 1; }
  if grep -q 'Port forwarding is now disabled\|Port forwarding is impossible' "$log"; then
    _lab_die "miniupnpd on $r will not forward: $(grep -i 'forwarding' "$log" | head -n 3)"
    return 1
  fi
}

lab_cut() {
  local r=$1 how=${2:-down}
  _lab_is_router "$r" || return 1
  [[ $how == down || $how == up ]] || { _lab_die "lab_cut ROUTER [down|up]"; return 1; }
  # The far end goes down: the router keeps its address and routes, as when
  # a cable or an upstream link fails.
  _lab_log "[upstream of $r] ip link set ${LAB_UPIF[$r]} $how"
  ip -n "${LAB_UPNS[$r]}" link set "${LAB_UPIF[$r]}" "$how"
}

# lab_path_mtu ROUTER MTU [--drop-big] | off: a path MTU black hole at the
# router's public link, as a hotel, LTE or PPPoE path that filters ICMP.
#   - the router's WAN interface gets MTU: larger frames arriving from
#     upstream are dropped by the link itself (veth checks the receiver's
#     MTU), larger packets it forwards out need fragmenting or an ICMP;
#   - its own table tnl<id>pmtu drops, with counters, the ICMP
#     "fragmentation needed" and ICMPv6 "packet too big" the router sends
#     (output) or forwards, so no sender ever learns the MTU;
#   - --drop-big: forwarded packets above MTU are dropped before the router
#     could fragment them (IPv4 without DF, such as our UDP today), and so
#     are fragments, both directions: then nothing above MTU crosses;
#   - offloads (gso, tso, gro, tx-udp-segmentation) go off on the router's
#     public link (both ends) and on every veth of its site, so the sizes on
#     the wire are the sizes sent. They stay off after "off".
# "off" restores MTU 1500 and deletes the table. Counters:
#   nft list table inet tnl<id>pmtu  (in ROUTER; chains local_out, transit).
lab_path_mtu() {
  local r=$1 mtu=${2:-} mode=${3:-} t="${LAB_PREFIX}pmtu"
  _lab_is_router "$r" || return 1
  local ns=${LAB_NS[$r]} w=${LAB_WANIF[$r]}
  if [[ $mtu == off ]]; then
    _lab_run ip -n "$ns" link set dev "$w" mtu 1500 || return 1
    _lab_log "[$r] nft delete table inet $t"
    ip netns exec "$ns" nft delete table inet "$t" 2>/dev/null || true
    return 0
  fi
  if ! [[ $mtu =~ ^[0-9]+$ ]] || ((mtu < 1280 || mtu > 1500)); then
    _lab_die "lab_path_mtu: MTU must be 1280..1500 (IPv6 needs 1280)"; return 1
  fi
  [[ -z $mode || $mode == --drop-big ]] || { _lab_die "lab_path_mtu: unknown option '$mode'"; return 1; }
  local big=""
  if [[ -n $mode ]]; then
    big="    oifname \"$w\" meta length > $mtu counter drop
    iifname \"$w\" meta length > $mtu counter drop
    oifname \"$w\" ip frag-off & 0x3fff != 0 counter drop
    iifname \"$w\" ip frag-off & 0x3fff != 0 counter drop
    oifname \"$w\" exthdr frag exists counter drop
    iifname \"$w\" exthdr frag exists counter drop"
  fi
  _lab_path_mtu_offloads "$r" || return 1
  _lab_run ip -n "$ns" link set dev "$w" mtu "$mtu" || return 1
  _lab_log "[$r] nft -f - (table inet $t: drop ICMP too-big${mode:+, $mode})"
  ip netns exec "$ns" nft -f - <<EOF || { _lab_die "nft rejected the $r pmtu table"; return 1; }
table inet $t {}
delete table inet $t
table inet $t {
  chain local_out {
    type filter hook output priority filter - 10; policy accept;
    icmp type destination-unreachable icmp code frag-needed counter drop
    icmpv6 type packet-too-big counter drop
  }
  chain transit {
    type filter hook forward priority filter - 10; policy accept;
    icmp type destination-unreachable icmp code frag-needed counter drop
    icmpv6 type packet-too-big counter drop
$big
  }
}
EOF
}

# Offloads off on the router's public link (both ends) and on every veth in
# the namespaces of its site (router, peers, host, a CGN in front).
_lab_path_mtu_offloads() {
  local r=$1 site=${1%-router} node dev
  _lab_path_mtu_ethtool "${LAB_UPNS[$r]}" "${LAB_UPIF[$r]}" || return 1
  for node in "${!LAB_NS[@]}"; do
    [[ $node == "$site"-* ]] || continue
    for dev in $(ip -n "${LAB_NS[$node]}" -o link show type veth | awk -F': ' '{ sub(/@.*/, "", $2); print $2 }'); do
      _lab_path_mtu_ethtool "${LAB_NS[$node]}" "$dev" || return 1
    done
  done
}

_lab_path_mtu_ethtool() {
  _lab_log "ip netns exec $1 ethtool -K $2 gso off tso off gro off tx-udp-segmentation off"
  ip netns exec "$1" ethtool -K "$2" gso off tso off gro off tx-udp-segmentation off >/dev/null 2>&1 ||
    ip netns exec "$1" ethtool -K "$2" gso off tso off gro off >/dev/null ||
    { _lab_die "ethtool -K $2 failed in $1"; return 1; }
}

# lab_netem ROUTER ARGS...|off: tc netem words (delay TIME [JITTER [CORR%]]
# [distribution uniform|normal], loss PCT%, reorder PCT%, rate RATE, limit N)
# on the public link, in both directions. With sch_netem, tc netem on both
# ends of the link; without it (or with LAB_NETEM_RELAY=1), tests/lab/netem
# relays every frame of the link in a namespace "ROUTER-wire" spliced in
# between (below):
#
#   router [WAN]==[UPIF] wire: netem relay [X]==[Y] upstream bridge
#
# The router's WAN veth keeps its name, addresses, routes, ruleset and
# conntrack; only its far end (UPIF) moves from the upstream bridge into the
# wire namespace, and back on "off". The router's WAN end computes checksums
# and segments in software while spliced (a relayed frame must be complete).
# A second call replaces the impairment. Returns 2 when ARGS are refused.
_lab_netem_tc() {
  local r=$1; shift
  local ns=${LAB_NS[$r]} w=${LAB_WANIF[$r]} upns=${LAB_UPNS[$r]} up=${LAB_UPIF[$r]}
  tc -n "$ns" qdisc replace dev "$w" root netem "$@" 2>/dev/null || return 1
  _lab_log "[$r] tc qdisc replace dev $w root netem $* (and the upstream end)"
  if ! tc -n "$upns" qdisc replace dev "$up" root netem "$@"; then
    tc -n "$ns" qdisc del dev "$w" root 2>/dev/null
    return 2
  fi
  LAB_NETEM[$r]="netem $*"
}

# _lab_netem_offloads NS DEV off: software checksums and segmentation on DEV;
# prints the previous "tx tso gso" settings for _lab_netem_offloads NS DEV SAVED.
_lab_netem_offloads() {
  local ns=$1 dev=$2 how=$3 tx tso gso
  if [[ $how == off ]]; then
    read -r tx tso gso < <(ip netns exec "$ns" ethtool -k "$dev" 2>/dev/null | awk -F': ' '
      $1 == "tx-checksumming" { tx = $2 } $1 == "tcp-segmentation-offload" { tso = $2 }
      $1 == "generic-segmentation-offload" { gso = $2 }
      END { print substr(tx, 1, 3), substr(tso, 1, 3), substr(gso, 1, 3) }') || return 1
    [[ $tx =~ ^o(n|ff)$ && $tso =~ ^o(n|ff)$ && $gso =~ ^o(n|ff)$ ]] || return 1
    echo "$tx $tso $gso"
    tx=off tso=off gso=off
  else
    read -r tx tso gso <<<"$how"
  fi
  ip netns exec "$ns" ethtool -K "$dev" tx "${tx// /}" tso "${tso// /}" gso "${gso// /}" >/dev/null 2>&1
}

# The link carries frames again: the router's end has carrier and the bridge
# forwards on the upstream port.
_lab_netem_linked() {
  ip -n "$1" link show dev "$2" | grep LOWER_UP >/dev/null &&
    bridge -n "$3" link show dev "$4" | grep 'state forwarding' >/dev/null
}

# "up" or "down": the administrative state of $2 in $1 (lab_cut's doing).
_lab_netem_admin() {
  if ip -n "$1" -o link show dev "$2" | grep -Eq '<([^>]*,)?UP[,>]'; then echo up; else echo down; fi
}

# Ready, or dead (the caller tells which from the log).
_lab_netem_ready() { grep -qs '^netem: relaying' "$1" || ! kill -0 "$2" 2>/dev/null; }

_lab_netem_splice() {
  local r=$1; shift
  local ns=${LAB_NS[$r]} w=${LAB_WANIF[$r]} upns=${LAB_UPNS[$r]} up=${LAB_UPIF[$r]}
  local here=${BASH_SOURCE[0]%/*} wire="$r-wire" br
  command -v ethtool >/dev/null || { _lab_die "lab_netem: ethtool is missing (contrib/install-deps)"; return 1; }
  # Refuse bad words before touching the link.
  "$here/netem" --port x --port y --check -- "$@" || return 2
  br=$(ip -n "$upns" -o link show dev "$up" | sed -n 's/.* master \([^ ]*\) .*/\1/p')
  [[ -n $br ]] || { _lab_die "lab_netem: $up in $upns has no bridge"; return 1; }
  local admin; admin=$(_lab_netem_admin "$upns" "$up")
  _lab_newns "$wire" || return 1
  local wns=${LAB_NS[$wire]}
  # The wire namespace is a cable: no addresses, no IPv6 autoconf, no routing.
  _lab_run ip netns exec "$wns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 \
    net.ipv6.conf.default.disable_ipv6=1 || return 1
  _lab_veth "$wns" "$upns" || return 1
  local x=$LAB_IF_A y=$LAB_IF_B
  local saved
  _lab_netem_offloads "$upns" "$y" off >/dev/null || { _lab_die "lab_netem: ethtool -K $y failed"; return 1; }
  saved=$(_lab_netem_offloads "$ns" "$w" off) || { _lab_die "lab_netem: ethtool -K $w failed"; return 1; }
  LAB_NETEM_UP[$r]="$upns $br $y ${saved// /,}"
  _lab_run ip -n "$upns" link set "$up" nomaster || return 1
  _lab_run ip -n "$upns" link set "$up" netns "$wns" || return 1
  LAB_UPNS[$r]=$wns
  # A cut link stays cut.
  _lab_run ip -n "$wns" link set "$up" "$admin" promisc on || return 1
  _lab_run ip -n "$wns" link set "$x" promisc on || return 1
  _lab_run ip -n "$upns" link set "$y" master "$br" || return 1
  local keep_pid=${LAB_PID:-} keep_log=${LAB_LOG:-}
  lab_spawn "$wire" "$here/netem" --port "$up" --port "$x" -- "$@"
  LAB_NETEM_PID[$r]=$LAB_PID
  local log=$LAB_LOG
  LAB_NETEM_UP[$r]+=" $log"
  # Read by tests after "off": the relay's final counters stay in it.
  # shellcheck disable=SC2034
  LAB_NETEM_LOG[$r]=$log
  LAB_PID=$keep_pid LAB_LOG=$keep_log
  lab_wait_until 10 _lab_netem_ready "$log" "${LAB_NETEM_PID[$r]}" || return 1
  grep -q '^netem: relaying' "$log" || { cat "$log" >&2; _lab_die "lab_netem: the relay did not start"; return 1; }
  [[ $admin == down ]] || lab_wait_until 10 _lab_netem_linked "$ns" "$w" "$upns" "$y" || return 1
  LAB_NETEM[$r]="relay $*"
}

_lab_netem_unsplice() {
  local r=$1 ns=${LAB_NS[$1]} w=${LAB_WANIF[$1]} up=${LAB_UPIF[$1]} wire="$1-wire"
  local wns=${LAB_NS[$wire]:-} upns br y saved log pid=${LAB_NETEM_PID[$1]:-} rc=0 admin=up
  if [[ -z ${LAB_NETEM_UP[$r]:-} ]]; then
    # A splice that failed before touching the link leaves at most the
    # wire namespace (with it goes the new veth pair).
    [[ -z $wns ]] || { ip netns del "$wns" 2>/dev/null; unset "LAB_NS[$wire]"; }
    return 0
  fi
  read -r upns br y saved log <<<"${LAB_NETEM_UP[$r]}"
  if [[ -n $pid ]]; then
    lab_stop "$pid" || rc=1
    # The relay's counters, one line per direction.
    [[ -z $log ]] || sed -n 's/^netem: \(.* in [0-9]\)/[relay] \1/p' "$log" >&2
    LAB_NETEM_PID[$r]=""
  fi
  ip -n "$upns" link del "$y" 2>/dev/null || true
  if [[ -n $wns ]] && ip -n "$wns" link show dev "$up" >/dev/null 2>&1; then
    admin=$(_lab_netem_admin "$wns" "$up")
    _lab_run ip -n "$wns" link set "$up" promisc off || rc=1
    _lab_run ip -n "$wns" link set "$up" netns "$upns" || rc=1
  else
    admin=$(_lab_netem_admin "$upns" "$up")
  fi
  if [[ -n $wns ]]; then
    _lab_run ip netns del "$wns" || rc=1
    unset "LAB_NS[$wire]"
  fi
  LAB_UPNS[$r]=$upns
  _lab_run ip -n "$upns" link set "$up" master "$br" "$admin" || rc=1
  _lab_netem_offloads "$ns" "$w" "${saved//,/ }" || rc=1
  [[ $admin == down ]] || lab_wait_until 10 _lab_netem_linked "$ns" "$w" "$upns" "$up" || rc=1
  LAB_NETEM_UP[$r]=""
  return "$rc"
}

lab_netem() {
  local r=${1:-}; shift || true
  _lab_is_router "$r" || return 1
  local ns=${LAB_NS[$r]} w=${LAB_WANIF[$r]} rc=0
  (($#)) || { _lab_die "lab_netem ROUTER ARGS...|off"; return 1; }
  # Whatever was there goes first: a new call replaces, "off" restores.
  if [[ ${LAB_NETEM[$r]:-} == netem* ]]; then
    tc -n "$ns" qdisc del dev "$w" root 2>/dev/null || true
    tc -n "${LAB_UPNS[$r]}" qdisc del dev "${LAB_UPIF[$r]}" root 2>/dev/null || true
  fi
  _lab_netem_unsplice "$r" || rc=1
  LAB_NETEM[$r]=""
  if [[ $1 == off ]]; then
    (($# == 1)) || { _lab_die "lab_netem ROUTER off takes no more words"; return 1; }
    _lab_log "[$r] netem off"
    return "$rc"
  fi
  ((rc == 0)) || return 1
  if ((${LAB_NETEM_RELAY:-0} == 0)); then
    _lab_netem_tc "$r" "$@" && return 0
    rc=$?
    ((rc == 1)) || return "$rc"
    _lab_log "[$r] no sch_netem here: tests/lab/netem relays the public link instead"
  fi
  _lab_netem_splice "$r" "$@" && return 0
  rc=$?
  _lab_netem_unsplice "$r" 2>/dev/null || true
  return "$rc"
}

# A table of every node: name, namespace, addresses, NAT type of routers.
lab_show() {
  local node nat
  printf '%-12s %-22s %-16s %-18s %s\n' node namespace ipv4 ipv6 nat
  for node in $(printf '%s\n' "${!LAB_NS[@]}" | sort); do
    nat=${LAB_NAT[$node]:-}
    [[ -z $nat ]] || nat="$nat (udp ${LAB_TIMEOUT[$node]}s${LAB_NETEM[$node]:+, ${LAB_NETEM[$node]}})"
    printf '%-12s %-22s %-16s %-18s %s\n' "$node" "${LAB_NS[$node]}" "${LAB_ADDR[$node]:--}" \
      "${LAB_ADDR6[$node]:--}" "$nat"
  done
}

lab_addr() {
  [[ -n ${LAB_ADDR[$1]:-} ]] || { _lab_die "no IPv4 address for '$1'"; return 1; }
  printf '%s\n' "${LAB_ADDR[$1]}"
}

lab_addr6() {
  [[ -n ${LAB_ADDR6[$1]:-} ]] || { _lab_die "no IPv6 address for '$1'"; return 1; }
  printf '%s\n' "${LAB_ADDR6[$1]}"
}

# Sanitizer options of this run: the caller's as lab_init finds them
# (ctest's abort_on_error, a test's own words), leak checking, and reports
# into files named after $1 (the sanitizers add .PID). Later settings win,
# so $1 replaces an earlier path.
_lab_san_env() {
  if ((!LAB_SAN_SET)); then
    LAB_SAN_OPTS0="${ASAN_OPTIONS-}" LAB_UBSAN_OPTS0="${UBSAN_OPTIONS-}"
  fi
  export ASAN_OPTIONS="${LAB_SAN_OPTS0:+$LAB_SAN_OPTS0:}detect_leaks=1:log_path=$1"
  export UBSAN_OPTIONS="${LAB_UBSAN_OPTS0:+$LAB_UBSAN_OPTS0:}print_stacktrace=1:log_path=$1"
  LAB_SAN_SET=1
}

# Must not run in a subshell: LAB_PID and LAB_PIDS are how we stop it later.
lab_spawn() {
  local node=$1; shift
  local ns; ns=$(lab_ns "$node") || return 1
  [[ -n $LAB_DIR ]] || { _lab_die "lab_init first"; return 1; }
  local name="$node.${#LAB_PIDS[@]}"
  LAB_LOG="$LAB_DIR/$name.log"
  _lab_log "[$node] $* &  (log $LAB_LOG)"
  # ip netns exec and env exec the command: the PID is the command's own.
  ip netns exec "$ns" env "ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}log_path=$LAB_DIR/san/$name" \
    "UBSAN_OPTIONS=${UBSAN_OPTIONS:+$UBSAN_OPTIONS:}log_path=$LAB_DIR/san/$name" \
    "$@" >"$LAB_LOG" 2>&1 </dev/null &
  LAB_PID=$!
  LAB_PIDS+=("$LAB_PID")
  LAB_PARENT[$LAB_PID]=$BASHPID
  LAB_CMD[$LAB_PID]="$*"
}

# Is the command of lab_spawn'd $1 one of the LAB_EXIT0 programs?
_lab_exit0() {
  local p w words
  read -ra words <<<"${LAB_CMD[$1]:-}"
  for p in "${LAB_EXIT0[@]}"; do
    for w in "${words[@]}"; do [[ $w == "$p" ]] && return 0; done
  done
  return 1
}

# True while $1 is still the process lab_spawn started: alive (or a zombie)
# and still the child of the shell that spawned it. A PID that was reaped by
# `wait` and reused by someone else fails the parent check.
_lab_ours() {
  local pid=$1 stat rest ppid
  [[ -n ${LAB_PARENT[$pid]:-} ]] || return 1
  stat=$(cat "/proc/$pid/stat" 2>/dev/null) || return 1
  rest=${stat##*) }
  read -r _ ppid _ <<<"$rest"
  [[ $ppid == "${LAB_PARENT[$pid]}" ]]
}

_lab_state() { awk '{ sub(/.*\) /, ""); print $1 }' "/proc/$1/stat" 2>/dev/null; }

# lab_gone PID: the process has exited. A zombie has: only its parent (init
# or a subreaper) can collect it, and `tunnelctl down` returns as soon as
# the daemon is one, so a plain `kill -0` would race that collection.
lab_gone() { ! kill -0 "$1" 2>/dev/null || [[ $(_lab_state "$1") == Z ]]; }

# Returns 0 once the process is gone (whatever its status, which goes to
# LAB_EXIT); a bad status of a LAB_EXIT0 program is printed and kept in
# LAB_BAD for lab_assert_clean.
lab_stop() {
  local pid=$1 n wait_state="" st=0 killed=0 termed=0 bad=""
  [[ $pid =~ ^[0-9]+$ ]] || { _lab_die "lab_stop: bad pid '$pid'"; return 1; }
  [[ " ${LAB_PIDS[*]} " == *" $pid "* ]] || { _lab_die "lab_stop: $pid was not started by lab_spawn"; return 1; }
  if _lab_ours "$pid"; then
    # A sanitized daemon checks for leaks on its way out: on a loaded
    # 2-core machine that takes seconds, so KILL comes late.
    if [[ $(_lab_state "$pid") != Z ]]; then
      termed=1
      kill -TERM "$pid" 2>/dev/null || true
    fi
    for ((n = 0; n < LAB_STOP_WAIT * 10; n++)); do
      wait_state=$(_lab_state "$pid") || break
      [[ $wait_state == Z ]] && break
      sleep 0.1
    done
    if _lab_ours "$pid" && [[ ${wait_state:-} != Z ]]; then
      killed=1
      kill -KILL "$pid" 2>/dev/null || true
    fi
    wait "$pid" 2>/dev/null || st=$?
    # shellcheck disable=SC2034 # for the tests
    if ((killed)); then LAB_EXIT[$pid]=killed; else LAB_EXIT[$pid]=$st; fi
    if _lab_exit0 "$pid"; then
      # 137 without our KILL: the test's own SIGKILL (which may still be
      # on its way when lab_stop looks, so the TERM can come first).
      if ((killed)); then
        bad="still running ${LAB_STOP_WAIT} s after TERM (KILLed)"
      elif ((st == 137)); then
        :
      elif ((termed && st != 0)); then
        bad="exit status $st after TERM, not 0"
      elif ((!termed && st > 128)); then
        bad="died by itself of signal $((st - 128))"
      fi
      if [[ -n $bad ]]; then
        LAB_BAD+=("process $pid (${LAB_CMD[$pid]}): $bad")
        printf 'lab: process %s (%s): %s\n' "$pid" "${LAB_CMD[$pid]}" "$bad" >&2
      fi
    fi
  fi
  unset "LAB_PARENT[$pid]"
  return 0
}

# Prints every non-empty sanitizer report of this run and keeps their names
# in LAB_SAN_REPORTS (for lab_assert_clean). Runs after the processes are
# stopped (leaks are reported at exit) and before LAB_DIR is removed.
LAB_SAN_REPORTS=""
lab_san_check() {
  local f
  [[ -n $LAB_DIR && -d $LAB_DIR/san ]] || return 0
  for f in "$LAB_DIR"/san/*; do
    [[ -s $f ]] || continue
    case " $LAB_SAN_REPORTS " in *" ${f##*/} "*) continue ;; esac
    LAB_SAN_REPORTS+=" ${f##*/}"
    printf 'lab: sanitizer report %s:\n' "$f" >&2
    sed 's/^/  | /' "$f" >&2
  done
  [[ -z $LAB_SAN_REPORTS ]]
}

# lab_wait_until SECS CMD...: 0 once CMD succeeds, 1 after SECS seconds.
lab_wait_until() {
  local secs=$1; shift
  [[ $secs =~ ^[0-9]+$ ]] || { _lab_die "lab_wait_until: bad timeout '$secs'"; return 1; }
  local n max=$((secs * 10))
  for ((n = 0; n <= max; n++)); do
    "$@" && return 0
    sleep 0.1
  done
  _lab_die "timed out after ${secs}s waiting for: $*"
  return 1
}

# lab_sshd NODE [CONNECT_TIMEOUT]: sshd for the copy tests, everything in
# LAB_DIR/sshd-NODE. Debian's sshd wants /run/sshd: a tmpfs in a private
# mount namespace gives it one. It listens on the whole namespace (a tunnel
# address comes and goes with the links); the client trusts its key under
# any host name.
lab_sshd() {
  local node=$1 timeout=${2:-10} s=$LAB_DIR/sshd-$1
  mkdir -m 0700 "$s"
  ssh-keygen -q -t ed25519 -N '' -C tnl-host -f "$s/host_ed25519"
  ssh-keygen -q -t ed25519 -N '' -C tnl-client -f "$s/client_ed25519"
  cp "$s/client_ed25519.pub" "$s/authorized_keys"
  cat >"$s/sshd_config" <<EOF
ListenAddress 0.0.0.0:22
HostKey $s/host_ed25519
AuthorizedKeysFile $s/authorized_keys
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
StrictModes no
PidFile none
Subsystem sftp /usr/lib/openssh/sftp-server
EOF
  # shellcheck disable=SC2016 # $1 is expanded by that inner sh
  lab_spawn "$node" unshare -m --propagation private sh -c \
    'mount -t tmpfs -o mode=0755 tnlsshd /run && mkdir -m 0755 /run/sshd && exec /usr/sbin/sshd -D -e -f "$1"' \
    sh "$s/sshd_config"
  # shellcheck disable=SC2034 # for the tests
  LAB_SSHD_PID=$LAB_PID LAB_SSHD_LOG=$LAB_LOG
  lab_wait_until 10 grep -q 'Server listening on 0.0.0.0' "$LAB_SSHD_LOG" || { cat "$LAB_SSHD_LOG" >&2; return 1; }
  echo "* $(cut -d' ' -f1-2 "$s/host_ed25519.pub")" >"$s/known_hosts"
  # shellcheck disable=SC2034 # for the tests
  LAB_SSH=(-F /dev/null -i "$s/client_ed25519" -o BatchMode=yes -o StrictHostKeyChecking=yes
    -o UserKnownHostsFile="$s/known_hosts" -o GlobalKnownHostsFile=/dev/null -o ConnectTimeout="$timeout")
}

# Deleting a namespace's name does not stop the processes inside it: they
# would run on in an orphaned namespace. Everything in a namespace this run
# created is ours; whatever a test forgot is stopped here (TERM, then KILL
# after 2 s), and named, since the test should have stopped it itself.
_lab_stop_stragglers() {
  local ns=$1 pids i
  pids=$(ip netns pids "$ns" 2>/dev/null | tr '\n' ' ')
  [[ -n ${pids// /} ]] || return 0
  printf 'lab: stopping processes left in %s: %s\n' "$ns" "$pids" >&2
  # shellcheck disable=SC2086 # a list of pids
  kill -TERM $pids 2>/dev/null || true
  for ((i = 0; i < 20; i++)); do
    [[ -z $(ip netns pids "$ns" 2>/dev/null) ]] && return 0
    sleep 0.1
  done
  pids=$(ip netns pids "$ns" 2>/dev/null | tr '\n' ' ')
  # shellcheck disable=SC2086
  [[ -z ${pids// /} ]] || kill -KILL $pids 2>/dev/null || true
}

lab_cleanup() {
  local pid node
  for pid in "${LAB_PIDS[@]}"; do
    [[ -z ${LAB_PARENT[$pid]:-} ]] || lab_stop "$pid" || true
  done
  for node in "${!LAB_NS[@]}"; do
    _lab_stop_stragglers "${LAB_NS[$node]}"
    ip netns del "${LAB_NS[$node]}" 2>/dev/null || true
  done
  LAB_NS=()
  lab_san_check || true
  if ((LAB_SAN_SET)); then
    if [[ -n $LAB_SAN_OPTS0 ]]; then export ASAN_OPTIONS=$LAB_SAN_OPTS0; else unset ASAN_OPTIONS; fi
    if [[ -n $LAB_UBSAN_OPTS0 ]]; then export UBSAN_OPTIONS=$LAB_UBSAN_OPTS0; else unset UBSAN_OPTIONS; fi
    LAB_SAN_SET=0
  fi
  # Logs go with the lab only when the lab made their directory.
  if ((LAB_DIR_OWNED)) && [[ -d $LAB_DIR ]]; then rm -rf -- "$LAB_DIR"; LAB_DIR=""; fi
  LAB_DIR_OWNED=0
  return 0
}

# Everything this run made must be gone: namespaces, links, nftables tables
# (in the host namespace and in any namespace still named after this run) and
# processes.
lab_assert_clean() {
  local left="" ns pid
  left+=$(ip netns list 2>/dev/null | awk -v p="$LAB_PREFIX-" 'index($1, p) == 1 {print "netns " $1}')
  left+=$(ip -o link show 2>/dev/null | awk -F': ' -v p="$LAB_PREFIX" 'index($2, p) == 1 {print "link " $2}')
  left+=$(nft list tables 2>/dev/null | awk -v p="$LAB_PREFIX" 'index($3, p) == 1 {print "nft table " $3}')
  for ns in /run/netns/"$LAB_PREFIX"-*; do
    [[ -e $ns ]] && left+=" file $ns"
  done
  for pid in "${LAB_PIDS[@]}"; do
    [[ -z ${LAB_PARENT[$pid]:-} ]] || ! _lab_ours "$pid" || left+=" process $pid"
  done
  lab_san_check || true
  [[ -z $LAB_SAN_REPORTS ]] || left+=" sanitizer reports:$LAB_SAN_REPORTS"
  for pid in "${LAB_BAD[@]}"; do left+=" [$pid]"; done
  if [[ -n $left ]]; then
    printf 'lab: left behind by run %s: %s\n' "$LAB_ID" "$left" >&2
    return 1
  fi
  echo "lab: clean (no namespace, link, nftables table or process of $LAB_PREFIX left)"
}
