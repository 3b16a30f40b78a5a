# shellcheck shell=bash
# tests/lab/mtu.sh: helpers of the path MTU and failover tests (issue 13,
# tests/lab/test_link_path_mtu_blackhole and friends). Sourced after link.sh.
#
# API:
#   mtu_check DESCRIPTION CMD...     prints ok/FAIL, remembers a failure in MTU_FAIL
#   mtu_watch DST TOTAL SECS PID [AT CMD...]
#                                    polls the size of file DST every 0.1 s while the
#                                    copy process PID (lab_spawn'd) runs, SECS at most;
#                                    runs CMD once when DST reaches AT bytes. Sets
#                                    MTU_MS (until DST had TOTAL bytes, or the end),
#                                    MTU_FIRST_MIB_MS (until the first MiB arrived,
#                                    -1: never), MTU_STALL_MS (longest time the size
#                                    did not grow before TOTAL), MTU_RC (the copy's
#                                    exit status; "killed": it outlived SECS)
#   mtu_in_range NODE LINK LO HI     path_mtu of LINK on NODE is in [LO, HI]

# Results for the tests that source this file:
# shellcheck disable=SC2034
MTU_FAIL=0
MTU_MS=0 MTU_FIRST_MIB_MS=-1 MTU_STALL_MS=0 MTU_RC=""

mtu_check() {
  local what=$1; shift
  if "$@"; then echo "ok   $what"; else echo "FAIL $what"; MTU_FAIL=1; fi
}

mtu_now_ms() { echo $(($(date +%s%N) / 1000000)); }

mtu_watch() {
  local dst=$1 total=$2 secs=$3 pid=$4 at=${5:-0}; shift 5 || shift $#
  local t0 now size last=0 grew fired=0 deadline
  t0=$(mtu_now_ms); grew=$t0; deadline=$((t0 + secs * 1000))
  MTU_MS=-1 MTU_FIRST_MIB_MS=-1 MTU_STALL_MS=0 MTU_RC=""
  while :; do
    now=$(mtu_now_ms)
    size=$(stat -c %s "$dst" 2>/dev/null) || size=0
    if ((size > last)); then
      ((now - grew <= MTU_STALL_MS)) || MTU_STALL_MS=$((now - grew))
      grew=$now last=$size
    fi
    ((MTU_FIRST_MIB_MS >= 0 || size < 1 << 20)) || MTU_FIRST_MIB_MS=$((now - t0))
    if ((MTU_MS < 0 && size >= total)); then MTU_MS=$((now - t0)); fi
    if ((at > 0 && !fired && size >= at)); then
      fired=1
      echo "at $((size >> 20)) MiB ($((now - t0)) ms into the copy): $*"
      # shellcheck disable=SC2034 # read by the tests
      "$@" || { echo "FAIL the action failed: $*"; MTU_FAIL=1; }
      # (its own duration counts as a stall if nothing arrived meanwhile)
      echo "  (took $(($(mtu_now_ms) - now)) ms)"
    fi
    lab_gone "$pid" && break
    ((now < deadline)) || break
    ((MTU_MS >= 0)) || ((now - grew <= MTU_STALL_MS)) || MTU_STALL_MS=$((now - grew))
    sleep 0.1
  done
  ((MTU_MS >= 0)) || MTU_MS=$(($(mtu_now_ms) - t0))
  # shellcheck disable=SC2034 # MTU_RC: for the tests
  if lab_gone "$pid"; then
    # (bash may have reaped it already: wait still knows its status)
    MTU_RC=0; wait "$pid" 2>/dev/null || MTU_RC=$?
    lab_stop "$pid"
  else
    lab_stop "$pid"; MTU_RC=killed
  fi
}

mtu_in_range() {
  local v
  v=$(link_status "$1" "$2" path_mtu) || return 1
  ((v >= $3 && v <= $4))
}
