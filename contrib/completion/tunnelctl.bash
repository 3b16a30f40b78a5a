# contrib/completion/tunnelctl.bash: bash completion for tunnelctl.
#
# Installed (package, cmake --install) as
# share/bash-completion/completions/tunnelctl, where bash-completion loads it.
#
# Completes the subcommands, their options, link names that have a config
# for `up` (NAME.conf in --config-dir, $TUNNEL_CONFIG_DIR or /etc/tunnel) and
# running links for `down`, `reload`, `status`, `show` and `ping` (NAME.sock in $TUNNEL_RUN_DIR or
# /run/tunnel). Both directories are usually root-only: as another user the
# names simply do not complete.

# Prints one name per line: the files DIR/*SUFFIX without the suffix.
_tunnelctl_names() {
  local dir=$1 suffix=$2 f
  [[ -d $dir && -r $dir && -x $dir ]] || return 0
  for f in "$dir"/*"$suffix"; do
    [[ -e $f ]] || continue
    f=${f##*/}
    printf '%s\n' "${f%"$suffix"}"
  done
}

_tunnelctl() {
  local cur prev cmd i config_dir=${TUNNEL_CONFIG_DIR:-/etc/tunnel}
  local run_dir=${TUNNEL_RUN_DIR:-/run/tunnel} have_name=0
  COMPREPLY=()
  cur=${COMP_WORDS[COMP_CWORD]}
  prev=${COMP_WORDS[COMP_CWORD - 1]}

  if ((COMP_CWORD == 1)); then
    mapfile -t COMPREPLY < <(compgen -W "genkey pubkey up down reload status show ping netcheck help --help --version" -- "$cur")
    return 0
  fi
  cmd=${COMP_WORDS[1]}

  # What the words typed so far already say: --config-dir, a link name.
  for ((i = 2; i < COMP_CWORD; i++)); do
    case ${COMP_WORDS[i]} in
      --config-dir) ((i + 1 < COMP_CWORD)) && config_dir=${COMP_WORDS[i + 1]}; ((i++)) ;;
      --wait | --rendezvous | --timeout | -c | --count | -i | --interval) ((i++)) ;;
      -*) ;;
      *) have_name=1 ;;
    esac
  done
  # bash keeps a typed ~ literal in COMP_WORDS.
  [[ $config_dir == "~"* ]] && config_dir=$HOME${config_dir#"~"}

  case $cmd in
    up)
      case $prev in
        --wait)
          mapfile -t COMPREPLY < <(compgen -W "5 15 30 60" -- "$cur")
          return 0
          ;;
        --config-dir)
          mapfile -t COMPREPLY < <(compgen -d -- "$cur")
          compopt -o filenames 2>/dev/null
          return 0
          ;;
      esac
      if [[ $cur == -* ]] || ((have_name)); then
        mapfile -t COMPREPLY < <(compgen -W "--wait --foreground --config-dir --help" -- "$cur")
      else
        mapfile -t COMPREPLY < <(compgen -W "$(_tunnelctl_names "$config_dir" .conf)" -- "$cur")
      fi
      ;;
    down | reload)
      ((have_name)) && return 0
      if [[ $cur == -* ]]; then
        mapfile -t COMPREPLY < <(compgen -W "--help" -- "$cur")
      else
        mapfile -t COMPREPLY < <(compgen -W "$(_tunnelctl_names "$run_dir" .sock)" -- "$cur")
      fi
      ;;
    status)
      if [[ $cur == -* ]] || ((have_name)); then
        mapfile -t COMPREPLY < <(compgen -W "--json --help" -- "$cur")
      else
        mapfile -t COMPREPLY < <(compgen -W "--json $(_tunnelctl_names "$run_dir" .sock)" -- "$cur")
      fi
      ;;
    show)
      ((have_name)) && return 0
      if [[ $cur == -* ]]; then
        mapfile -t COMPREPLY < <(compgen -W "--help" -- "$cur")
      else
        mapfile -t COMPREPLY < <(compgen -W "$(_tunnelctl_names "$run_dir" .sock)" -- "$cur")
      fi
      ;;
    ping)
      case $prev in
        -c | --count)
          mapfile -t COMPREPLY < <(compgen -W "1 5 10 60" -- "$cur")
          return 0
          ;;
        -i | --interval)
          mapfile -t COMPREPLY < <(compgen -W "0.2 0.5 1 5" -- "$cur")
          return 0
          ;;
      esac
      if [[ $cur == -* ]] || ((have_name)); then
        mapfile -t COMPREPLY < <(compgen -W "--count --interval --until-direct --json --help" -- "$cur")
      else
        mapfile -t COMPREPLY < <(compgen -W "$(_tunnelctl_names "$run_dir" .sock)" -- "$cur")
      fi
      ;;
    netcheck)
      case $prev in
        --config-dir)
          mapfile -t COMPREPLY < <(compgen -d -- "$cur")
          compopt -o filenames 2>/dev/null
          return 0
          ;;
        --rendezvous | --timeout) return 0 ;;
      esac
      if [[ $cur == -* ]] || ((have_name)); then
        mapfile -t COMPREPLY < <(compgen -W "--rendezvous --json --timeout --config-dir --help" -- "$cur")
      else
        mapfile -t COMPREPLY < <(compgen -W "$(_tunnelctl_names "$config_dir" .conf)" -- "$cur")
      fi
      ;;
    help)
      ((COMP_CWORD == 2)) &&
        mapfile -t COMPREPLY < <(compgen -W "genkey pubkey up down reload status show ping netcheck" -- "$cur")
      ;;
    genkey | pubkey)
      mapfile -t COMPREPLY < <(compgen -W "--help" -- "$cur")
      ;;
  esac
  return 0
}

complete -F _tunnelctl tunnelctl
