# Sourced by the test and bench scripts: installs Debian packages for the commands that are
# missing. Arguments are command:package pairs, e.g. `install_missing qemu-img:qemu-utils wrk:wrk`;
# a command starting with / is a path (glob) to look for instead (binaries not on PATH).
install_missing() {
  local need=() pair
  for pair in "$@"; do
    local what="${pair%%:*}"
    if [[ "$what" == /* ]]; then
      compgen -G "$what" >/dev/null || need+=("${pair#*:}")
    else
      command -v "$what" >/dev/null 2>&1 || need+=("${pair#*:}")
    fi
  done
  [ ${#need[@]} -gt 0 ] || return 0
  echo "installing Debian packages: ${need[*]}"
  export DEBIAN_FRONTEND=noninteractive
  local sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -q >/dev/null
  $sudo apt-get install -y -q "${need[@]}" >/dev/null
}
