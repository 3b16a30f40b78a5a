#!/usr/bin/env bash
# tun/ end to end in a network namespace of its own (needs root; skips with
# 77 otherwise). Nothing here touches the host's interfaces or routes.
#
#   namespace tnl<pid>tun
#   +---------------------------------------------------------------+
#   |  tnl<pid>a (TUN, test_tun_ns holds the fd)   tnl<pid>b (TUN)  |
#   +---------------------------------------------------------------+
#
# Phases (each must leave the namespace exactly as it found it, compared
# through `ip -j link/addr/route/-6 route` parsed with python3):
#   layout   exact MTU, flags, addresses and routes after setup, a bare
#            interface after teardown
#   packets  echo to our own address through the TUN; ping to AllowedIPs
#            read from the TUN and answered
#   errors   every error message, namespace unchanged after each
#   notun    no /dev/net/tun (a private mount namespace hides it)
#   cycles   1000 create/configure/destroy cycles leak nothing
#
# Sub-commands used by test_tun_ns itself (run inside the namespace):
#   test_tun.sh snapshot             canonical JSON of the namespace
#   test_tun.sh check NAME up|torn   the exact expected state of NAME
set -euo pipefail

self=$(realpath "$0")
py=/usr/bin/python3

snapshot() {
  "$py" - <<'PY'
import json, subprocess
def ip(*args):
    out = subprocess.run(["ip", "-j", *args], check=True, capture_output=True, text=True).stdout
    return json.loads(out or "[]")
# A fresh device gets the default qdisc the first time it goes up, and
# keeps it: the kernel's doing, not configuration of ours, so not compared.
def noqdisc(objs):
    for o in objs:
        o.pop("qdisc", None)
    return objs
state = {
    "link": noqdisc(ip("link")),
    "addr": noqdisc(ip("addr")),
    "route4": ip("-4", "route", "show", "table", "all"),
    "route6": ip("-6", "route", "show", "table", "all"),
}
print(json.dumps(state, sort_keys=True))
PY
}

check() {
  "$py" - "$1" "$2" <<'PY'
import ipaddress, json, subprocess, sys
name, phase = sys.argv[1], sys.argv[2]
def ip(*args):
    out = subprocess.run(["ip", "-j", *args], check=True, capture_output=True, text=True).stdout
    return json.loads(out or "[]")
def fail(msg):
    print(f"check {phase} {name}: {msg}", file=sys.stderr)
    sys.exit(1)

links = [l for l in ip("link") if l["ifname"] == name]
if len(links) != 1:
    fail(f"{len(links)} links named {name}")
link = links[0]
addrs = [a for a in ip("addr") if a["ifname"] == name][0]["addr_info"]
glob = {(a["family"], a["local"], a["prefixlen"], a.get("address"))
        for a in addrs if a.get("scope") == "global"}
others = [a for a in addrs if a.get("scope") != "global"]
for a in others:  # only the kernel's own IPv6 link-local may be there
    if not (a["family"] == "inet6" and ipaddress.ip_address(a["local"]).is_link_local):
        fail(f"unexpected address {a}")
r4 = {(r["dst"], r.get("protocol"), r.get("table", "main"))
      for r in ip("-4", "route", "show", "table", "all") if r.get("dev") == name}
r6 = {(r["dst"], r.get("protocol"), r.get("table", "main"))
      for r in ip("-6", "route", "show", "table", "all") if r.get("dev") == name}
# The kernel's own IPv6 bookkeeping on an up link (link-local, multicast).
r6 = {r for r in r6 if not (r[0].startswith("fe80:") or r[0] == "ff00::/8"
                            or (r[2] == "local" and r[0].startswith("fe80")))}

if phase == "up":
    want_link = {"mtu": 1380, "up": True}
    want_addrs = {("inet", "10.77.0.2", 24, None),
                  ("inet6", "fd77::2", 64, None),
                  ("inet", "10.88.0.2", 32, "10.88.0.1"),
                  ("inet6", "fd88::2", 128, "fd88::1"),
                  ("inet", "10.66.0.0", 31, None)}
    want_r4 = {("10.77.0.0/24", "kernel", "main"),
               ("10.88.0.1", "kernel", "main"),
               ("10.66.0.0/31", "kernel", "main"),
               ("10.2.0.0/24", "static", "main"),
               ("10.3.0.0/16", "static", "main"),
               # the kernel's local and broadcast entries for our addresses
               ("10.77.0.2", "kernel", "local"),
               ("10.77.0.255", "kernel", "local"),
               ("10.88.0.2", "kernel", "local"),
               ("10.66.0.0", "kernel", "local")}
    want_r6 = {("fd77::/64", "kernel", "main"),
               ("fd88::1", "kernel", "main"),
               ("fd88::2", "kernel", "main"),
               ("fd77:2::/48", "static", "main"),
               ("fd77::2", "kernel", "local"),
               ("fd88::2", "kernel", "local")}
else:
    want_link = {"mtu": 1500, "up": False}
    want_addrs, want_r4, want_r6 = set(), set(), set()

got_link = {"mtu": link["mtu"], "up": "UP" in link["flags"]}
if got_link != want_link:
    fail(f"link {got_link}, want {want_link}")
for flag in ("POINTOPOINT", "NOARP"):
    if flag not in link["flags"]:
        fail(f"link flags {link['flags']} lack {flag}")
if phase == "up" and link["operstate"] != "UNKNOWN":
    fail(f"operstate {link['operstate']}")
if glob != want_addrs:
    fail(f"addresses {sorted(glob, key=str)}, want {sorted(want_addrs, key=str)}")
if r4 != want_r4:
    fail(f"IPv4 routes {sorted(r4, key=str)}, want {sorted(want_r4, key=str)}")
if r6 != want_r6:
    fail(f"IPv6 routes {sorted(r6, key=str)}, want {sorted(want_r6, key=str)}")
print(f"ok: {name} {phase}: mtu {link['mtu']}, up {got_link['up']}, "
      f"{len(glob)} addresses, {len(r4)} IPv4 and {len(r6)} IPv6 routes as expected")
PY
}

case "${1:-}" in
  snapshot) snapshot; exit ;;
  check) check "$2" "$3"; exit ;;
esac

if ((EUID != 0)); then
  echo "test_tun: needs root to create network namespaces; skipped" >&2
  exit 77
fi
if [[ ! -c /dev/net/tun ]]; then
  echo "test_tun: no /dev/net/tun on this machine; skipped" >&2
  exit 77
fi
bin=${TUNNEL_BUILD_DIR:?}/tests/test_tun_ns
[[ -x $bin ]] || { echo "test_tun: $bin is not built" >&2; exit 1; }

ns=tnl$$tun
n1=tnl$$a
n2=tnl$$b
cleanup() { ip netns del "$ns" 2>/dev/null || true; }
trap cleanup EXIT
ip netns add "$ns"
inns() { ip netns exec "$ns" "$@"; }
export TUN_TEST_SNAPSHOT="$self snapshot"

base=$(inns "$self" snapshot)
unchanged() {
  local now
  now=$(inns "$self" snapshot)
  if [[ $now != "$base" ]]; then
    echo "test_tun: namespace differs after $1" >&2
    echo "before: $base" >&2
    echo "after:  $now" >&2
    exit 1
  fi
  echo "ok: namespace back to its initial state after $1"
}

echo "== layout"
inns "$bin" layout "$n1" "$self" check "$n1"
unchanged layout

echo "== packets"
inns "$bin" packets "$n1"
unchanged packets

echo "== errors"
inns "$bin" errors "$n1" "$n2"
unchanged errors

echo "== notun"
# A private mount namespace with an empty tmpfs over /dev/net: the module
# looks unloaded to this one process and nothing else.
inns unshare --mount --propagation private \
  sh -c 'mount -t tmpfs tnlnotun /dev/net && exec "$0" notun "$1"' "$bin" "$n1"
unchanged notun

echo "== cycles"
inns "$bin" cycles "$n1" "${TUN_TEST_CYCLES:-1000}"
unchanged cycles

echo "test_tun: all phases passed"
