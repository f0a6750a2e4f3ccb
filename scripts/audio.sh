#!/usr/bin/env bash
# Runs Janus (Debian package janus) as Baton's audio conferencing server: the AudioBridge plugin
# mixes each meeting's audio. The Baton server usually runs Janus itself (--audio=auto, when
# janus is installed); this script is for running it on its own, e.g. on another machine, and
# pointing the server at it with --janus-url ws://HOST:PORT --janus-secret SECRET.
# Safe defaults: only AudioBridge and the WebSocket API are loaded, the API needs a secret,
# and it listens on loopback unless told otherwise.
#
#   scripts/audio.sh install                 install Debian's janus if missing (as root)
#   scripts/audio.sh config [options]        write <dir>/janus.jcfg (+ plugin files) and print its path
#   scripts/audio.sh start  [options]        write the config and start janus (daemon, or --foreground)
#   scripts/audio.sh stop   [--dir D]
#   scripts/audio.sh status [--dir D]
set -euo pipefail

usage() {
  cat <<'USAGE'
Usage: scripts/audio.sh install | config | start | stop | status [options]

Options (config/start):
  --secret S             Janus API secret, also given to Baton (--janus-secret) (>= 16 characters)
  --secret-file F        read the secret from a file instead (or set BATON_JANUS_SECRET)
  --dir D                directory owned by this script: config, pid, log
                         (default $BATON_DATA_DIR/janus-standalone, or ./data/janus-standalone)
  --port N               WebSocket API port (default 8188)
  --listen IP            address of the WebSocket API (default 127.0.0.1)
  --rtp-ports MIN-MAX    UDP ports for the media (default 20000-40000)
  --nat-1-1 IP           public address when Janus sits behind 1:1 NAT
  --debug-level N        Janus log level 0-7 (default 4)
  --foreground           run janus in the foreground (exec) instead of as a daemon
USAGE
}

die() { echo "audio.sh: $*" >&2; exit 1; }

cmd="${1:-}"; [ $# -gt 0 ] && shift
case "$cmd" in install|config|start|stop|status) ;; -h|--help|help|"") usage; exit 0 ;; *) usage >&2; exit 2 ;; esac

dir="${BATON_DATA_DIR:-./data}/janus-standalone"
secret="${BATON_JANUS_SECRET:-}"
port=8188 listen=127.0.0.1 rtp_ports=20000-40000 nat="" debug=4 foreground=0

need() { [ $# -ge 2 ] && [ -n "$2" ] || die "$1 needs a value"; }
while [ $# -gt 0 ]; do
  case "$1" in
    --secret) need "$@"; secret="$2"; shift 2 ;;
    --secret-file) need "$@"; [ -r "$2" ] || die "cannot read $2"; secret="$(head -n1 "$2" | tr -d '\r\n')"; shift 2 ;;
    --dir) need "$@"; dir="$2"; shift 2 ;;
    --port) need "$@"; port="$2"; shift 2 ;;
    --listen) need "$@"; listen="$2"; shift 2 ;;
    --rtp-ports) need "$@"; rtp_ports="$2"; shift 2 ;;
    --nat-1-1) need "$@"; nat="$2"; shift 2 ;;
    --debug-level) need "$@"; debug="$2"; shift 2 ;;
    --foreground) foreground=1; shift ;;
    -h|--help) usage; exit 0 ;;
    *) die "unknown option $1 (see --help)" ;;
  esac
done
pid_file="$dir/janus.pid"
log_file="$dir/janus.log"

running_pid() {
  [ -f "$pid_file" ] || return 1
  local pid; pid="$(tr -dc 0-9 < "$pid_file")"
  [ -n "$pid" ] && [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = janus ] && echo "$pid"
}

case "$cmd" in
  install)
    if command -v janus >/dev/null; then echo "audio.sh: janus already installed ($(command -v janus))"; exit 0; fi
    [ "$(id -u)" -eq 0 ] || die "installing janus needs root: sudo apt-get install janus"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends janus
    exit 0 ;;
  stop)
    pid="$(running_pid)" || { echo "audio.sh: not running"; rm -f "$pid_file"; exit 0; }
    kill -TERM "$pid"
    for _ in $(seq 50); do [ -d "/proc/$pid" ] || break; sleep 0.1; done
    [ -d "/proc/$pid" ] && kill -KILL "$pid"
    rm -f "$pid_file"
    echo "audio.sh: stopped janus $pid"
    exit 0 ;;
  status)
    if pid="$(running_pid)"; then echo "audio.sh: running, pid $pid"; exit 0; fi
    echo "audio.sh: not running"; exit 3 ;;
esac

# --- config / start: validate everything that goes into the config files.
[ -n "$secret" ] || die "an API secret is required: --secret, --secret-file or BATON_JANUS_SECRET (try: openssl rand -hex 32)"
[ ${#secret} -ge 16 ] || die "the secret must have at least 16 characters"
[[ "$secret" =~ ^[A-Za-z0-9+/=._~-]+$ ]] || die "the secret may use only letters, digits and + / = . _ ~ -"
[[ "$port" =~ ^[0-9]+$ ]] && [ "$port" -ge 1 ] && [ "$port" -le 65535 ] || die "bad port: $port"
[[ "$rtp_ports" =~ ^([0-9]+)-([0-9]+)$ ]] && [ "${BASH_REMATCH[1]}" -le "${BASH_REMATCH[2]}" ] && [ "${BASH_REMATCH[2]}" -le 65535 ] || die "bad --rtp-ports: $rtp_ports"
[[ "$debug" =~ ^[0-7]$ ]] || die "bad --debug-level: $debug"
for a in "$listen" ${nat:+"$nat"}; do [[ "$a" =~ ^[0-9A-Fa-f.:]+$ ]] || die "bad address: $a"; done
command -v janus >/dev/null || die "janus not found: run scripts/audio.sh install (Debian package janus)"

umask 077
mkdir -p "$dir"
dir="$(realpath "$dir")"
pid_file="$dir/janus.pid"
log_file="$dir/janus.log"
others=()
for p in duktape echotest lua nosip recordplay sip streaming textroom videocall videoroom voicemail; do others+=("libjanus_$p.so"); done
join() { local IFS=,; echo "$*"; }
conf="$dir/janus.jcfg"
cat > "$conf.tmp" <<CONF
# Written by scripts/audio.sh on $(date -u +%FT%TZ). Rewritten on every start: edit the options, not this file.
general: {
  configs_folder = "$dir"
  log_to_stdout = true
  debug_level = $debug
  debug_timestamps = true
  server_name = "baton-audio"
  api_secret = "$secret"
  session_timeout = 60
  protected_folders = ["/bin", "/boot", "/dev", "/etc", "/initrd", "/lib", "/lib32", "/lib64", "/proc", "/sbin", "/sys", "/usr", "/var"]
}
media: {
  rtp_port_range = "$rtp_ports"
}
nat: {
  nice_debug = false
  ice_ignore_list = "vmnet"
$( [ -n "$nat" ] && echo "  nat_1_1_mapping = \"$nat\"" )
}
plugins: {
  disable = "$(join "${others[@]}")"
}
transports: {
  disable = "libjanus_http.so,libjanus_mqtt.so,libjanus_nanomsg.so,libjanus_pfunix.so,libjanus_rabbitmq.so"
}
events: {
  broadcast = false
  disable = "libjanus_gelfevh.so,libjanus_mqttevh.so,libjanus_nanomsgevh.so,libjanus_rabbitmqevh.so,libjanus_sampleevh.so,libjanus_wsevh.so"
}
loggers: {
  disable = "libjanus_jsonlog.so"
}
CONF
cat > "$dir/janus.transport.websockets.jcfg" <<CONF
general: {
  json = "plain"
  ws = true
  ws_port = $port
  ws_ip = "$listen"
  wss = false
}
admin: {
  admin_ws = false
  admin_wss = false
}
CONF
cat > "$dir/janus.plugin.audiobridge.jcfg" <<CONF
general: {
  # Baton creates one room per meeting over the API; none are kept in this file.
  events = false
}
CONF
mv "$conf.tmp" "$conf"
chmod 600 "$conf" "$dir"/*.jcfg

if [ "$cmd" = config ]; then echo "$conf"; exit 0; fi

if pid="$(running_pid)"; then die "janus already running (pid $pid, $pid_file): stop it first"; fi
rm -f "$pid_file"
args=(-F "$dir" -C "$conf" -o)
if [ "$foreground" -eq 1 ]; then exec janus "${args[@]}"; fi
nohup janus "${args[@]}" >>"$log_file" 2>&1 &
echo $! > "$pid_file"
for _ in $(seq 100); do
  if ! running_pid >/dev/null; then die "janus exited at start; see $log_file"; fi
  if (exec 3<>"/dev/tcp/$listen/$port") 2>/dev/null; then
    echo "audio.sh: janus running, pid $(running_pid), ws://$listen:$port, config $conf"
    echo "audio.sh: start Baton with --janus-url ws://$listen:$port --janus-secret <the secret>"
    exit 0
  fi
  sleep 0.1
done
die "janus did not open port $port; see $log_file"
