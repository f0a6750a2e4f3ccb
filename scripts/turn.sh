#!/usr/bin/env bash
# Runs coturn as Baton's TURN relay for participants behind NATs and firewalls.
# Credentials are short-lived and minted by the Baton server (TURN REST API scheme, see docs/turn.md):
# coturn only knows the shared secret, never a user list. Safe defaults: authentication always on,
# no open relay, private/loopback peers denied, no CLI, no TLSv1/1.1, FINGERPRINT on every message.
#
#   scripts/turn.sh install                 install Debian's coturn if missing (as root)
#   scripts/turn.sh config [options]        write <dir>/turnserver.conf and print its path
#   scripts/turn.sh start  [options]        write the config and start turnserver (daemon, or --foreground)
#   scripts/turn.sh stop   [--dir D] [--pid-file F]
#   scripts/turn.sh status [--dir D] [--pid-file F]
set -euo pipefail

usage() {
  cat <<'EOF'
Usage: scripts/turn.sh install | config | start | stop | status [options]

Options (config/start):
  --secret S             shared secret, also given to the Baton server (>= 16 characters)
  --secret-file F        read the secret from a file instead (or set BATON_TURN_SECRET)
  --dir D                directory owned by this script: config, pid, log, db
                         (default $BATON_DATA_DIR/turn, or ./data/turn)
  --port N               TURN/STUN port, UDP and TCP (default 3478)
  --listen IP            address to listen on; repeat for several (default 127.0.0.1;
                         use your public or LAN address, or 0.0.0.0, for external users)
  --relay-ip IP          local address relayed traffic leaves from (repeatable; default: the listen addresses)
  --external-ip IP[/P]   public address when coturn sits behind 1:1 NAT (public[/private])
  --realm R              TURN realm (default baton)
  --min-port N           lowest UDP relay port (default 49152)
  --max-port N           highest UDP relay port (default 65535)
  --cert F --pkey F      enable TLS and DTLS on --tls-port (turns: URLs)
  --tls-port N           TLS/DTLS port (default 5349)
  --allow-peer RANGE     allow a private peer range anyway, e.g. 10.0.0.5 or 10.0.0.0-10.0.0.255 (repeatable)
  --allow-loopback-peers allow relaying to 127.0.0.0/8 and ::1 (tests on one machine only)
  --user-quota N         concurrent allocations per username (default 12)
  --total-quota N        concurrent allocations in total (default 0 = no limit)
  --max-bps N            bytes per second per session (default 0 = no limit)
  --proc-user U          drop root privileges to user U after binding ports
  --pid-file F           default <dir>/turnserver.pid
  --log F                default <dir>/turnserver.log
  --foreground           run turnserver in the foreground (exec) instead of as a daemon
  --verbose              log every allocation, permission and 401 (debugging; tests)
EOF
}

die() { echo "turn.sh: $*" >&2; exit 1; }

cmd="${1:-}"; [ $# -gt 0 ] && shift
case "$cmd" in install|config|start|stop|status) ;; -h|--help|help|"") usage; exit 0 ;; *) usage >&2; exit 2 ;; esac

dir="${BATON_DATA_DIR:-./data}/turn"
secret="${BATON_TURN_SECRET:-}"
port=3478 tls_port=5349 realm=baton min_port=49152 max_port=65535
user_quota=12 total_quota=0 max_bps=0
listen=() relay=() allow_peers=() external=""
cert="" pkey="" proc_user="" pid_file="" log_file="" foreground=0 loopback=0 verbose=0

need() { [ $# -ge 2 ] && [ -n "$2" ] || die "$1 needs a value"; }
while [ $# -gt 0 ]; do
  case "$1" in
    --secret) need "$@"; secret="$2"; shift 2 ;;
    --secret-file) need "$@"; [ -r "$2" ] || die "cannot read $2"; secret="$(head -n1 "$2" | tr -d '\r\n')"; shift 2 ;;
    --dir) need "$@"; dir="$2"; shift 2 ;;
    --port) need "$@"; port="$2"; shift 2 ;;
    --tls-port) need "$@"; tls_port="$2"; shift 2 ;;
    --listen) need "$@"; listen+=("$2"); shift 2 ;;
    --relay-ip) need "$@"; relay+=("$2"); shift 2 ;;
    --external-ip) need "$@"; external="$2"; shift 2 ;;
    --realm) need "$@"; realm="$2"; shift 2 ;;
    --min-port) need "$@"; min_port="$2"; shift 2 ;;
    --max-port) need "$@"; max_port="$2"; shift 2 ;;
    --cert) need "$@"; cert="$2"; shift 2 ;;
    --pkey) need "$@"; pkey="$2"; shift 2 ;;
    --allow-peer) need "$@"; allow_peers+=("$2"); shift 2 ;;
    --allow-loopback-peers) loopback=1; shift ;;
    --user-quota) need "$@"; user_quota="$2"; shift 2 ;;
    --total-quota) need "$@"; total_quota="$2"; shift 2 ;;
    --max-bps) need "$@"; max_bps="$2"; shift 2 ;;
    --proc-user) need "$@"; proc_user="$2"; shift 2 ;;
    --pid-file) need "$@"; pid_file="$2"; shift 2 ;;
    --log) need "$@"; log_file="$2"; shift 2 ;;
    --foreground) foreground=1; shift ;;
    --verbose) verbose=1; shift ;;
    -h|--help) usage; exit 0 ;;
    *) die "unknown option $1 (see --help)" ;;
  esac
done
pid_file="${pid_file:-$dir/turnserver.pid}"
log_file="${log_file:-$dir/turnserver.log}"

# A live turnserver whose pid is in the pid file, or nothing.
running_pid() {
  [ -f "$pid_file" ] || return 1
  local pid; pid="$(tr -dc 0-9 < "$pid_file")"
  [ -n "$pid" ] && [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = turnserver ] && echo "$pid"
}

case "$cmd" in
  install)
    if command -v turnserver >/dev/null; then echo "turn.sh: coturn already installed ($(command -v turnserver))"; exit 0; fi
    [ "$(id -u)" -eq 0 ] || die "installing coturn needs root: sudo apt-get install coturn"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends coturn
    exit 0 ;;
  stop)
    pid="$(running_pid)" || { echo "turn.sh: not running"; rm -f "$pid_file"; exit 0; }
    kill -TERM "$pid"
    for _ in $(seq 50); do [ -d "/proc/$pid" ] || break; sleep 0.1; done
    [ -d "/proc/$pid" ] && kill -KILL "$pid"
    rm -f "$pid_file"
    echo "turn.sh: stopped turnserver $pid"
    exit 0 ;;
  status)
    if pid="$(running_pid)"; then echo "turn.sh: running, pid $pid"; exit 0; fi
    echo "turn.sh: not running"; exit 3 ;;
esac

# --- config / start: validate everything that goes into the config file (one option per line).
[ -n "$secret" ] || die "a shared secret is required: --secret, --secret-file or BATON_TURN_SECRET"
[ ${#secret} -ge 16 ] || die "the secret must have at least 16 characters (try: openssl rand -hex 32)"
[[ "$secret" =~ ^[A-Za-z0-9+/=._~-]+$ ]] || die "the secret may use only letters, digits and + / = . _ ~ -"
[[ "$realm" =~ ^[A-Za-z0-9.-]+$ ]] || die "bad realm: $realm"
for n in "$port" "$tls_port" "$min_port" "$max_port"; do
  [[ "$n" =~ ^[0-9]+$ ]] && [ "$n" -ge 1 ] && [ "$n" -le 65535 ] || die "bad port: $n"
done
[ "$min_port" -le "$max_port" ] || die "--min-port must not exceed --max-port"
for n in "$user_quota" "$total_quota" "$max_bps"; do [[ "$n" =~ ^[0-9]+$ ]] || die "bad number: $n"; done
[ ${#listen[@]} -gt 0 ] || listen=(127.0.0.1)
for a in "${listen[@]}" "${relay[@]}" "${allow_peers[@]}" ${external:+"$external"}; do
  [[ "$a" =~ ^[0-9A-Fa-f.:/-]+$ ]] || die "bad address: $a"
done
if [ -n "$cert$pkey" ]; then
  [ -r "$cert" ] && [ -r "$pkey" ] || die "--cert and --pkey must both name readable files"
fi
if [ -n "$proc_user" ]; then id "$proc_user" >/dev/null 2>&1 || die "no such user: $proc_user"; fi
command -v turnserver >/dev/null || die "turnserver not found: run scripts/turn.sh install (Debian package coturn)"

umask 077
mkdir -p "$dir" "$(dirname "$pid_file")" "$(dirname "$log_file")"
conf="$dir/turnserver.conf"
{
  echo "# Written by scripts/turn.sh on $(date -u +%FT%TZ). Rewritten on every start: edit the options, not this file."
  echo "listening-port=$port"
  for a in "${listen[@]}"; do echo "listening-ip=$a"; done
  for a in "${relay[@]}"; do echo "relay-ip=$a"; done
  if [ -n "$external" ]; then echo "external-ip=$external"; fi
  echo "min-port=$min_port"
  echo "max-port=$max_port"
  echo "realm=$realm"
  # TURN REST API credentials: username "<expiry>:<id>", password base64(HMAC-SHA1(secret, username)).
  echo "use-auth-secret"
  echo "static-auth-secret=$secret"
  echo "userdb=$dir/turndb"
  echo "fingerprint"
  echo "stale-nonce=600"
  echo "user-quota=$user_quota"
  echo "total-quota=$total_quota"
  echo "max-bps=$max_bps"
  echo "no-cli"
  echo "no-software-attribute"
  echo "no-multicast-peers"
  echo "no-tlsv1"
  echo "no-tlsv1_1"
  if [ -n "$cert" ]; then
    echo "tls-listening-port=$tls_port"
    echo "cert=$(realpath "$cert")"
    echo "pkey=$(realpath "$pkey")"
  else
    echo "no-tls"
    echo "no-dtls"
  fi
  # Never relay into the server's own networks (SSRF through TURN): special and private ranges.
  # coturn denies loopback peers unless allow-loopback-peers is set.
  for r in 0.0.0.0-0.255.255.255 10.0.0.0-10.255.255.255 100.64.0.0-100.127.255.255 \
           169.254.0.0-169.254.255.255 172.16.0.0-172.31.255.255 192.0.0.0-192.0.0.255 192.0.2.0-192.0.2.255 \
           192.88.99.0-192.88.99.255 192.168.0.0-192.168.255.255 198.18.0.0-198.19.255.255 \
           198.51.100.0-198.51.100.255 203.0.113.0-203.0.113.255 240.0.0.0-255.255.255.255 \
           ::ffff:0.0.0.0-::ffff:255.255.255.255 64:ff9b::-64:ff9b::ffff:ffff \
           fc00::-fdff:ffff:ffff:ffff:ffff:ffff:ffff:ffff fe80::-febf:ffff:ffff:ffff:ffff:ffff:ffff:ffff; do
    echo "denied-peer-ip=$r"
  done
  for r in "${allow_peers[@]}"; do echo "allowed-peer-ip=$r"; done
  if [ "$loopback" -eq 1 ]; then
    echo "# Tests only: lets two peers on this machine relay to each other."
    echo "allow-loopback-peers"
  fi
  if [ -n "$proc_user" ]; then echo "proc-user=$proc_user"; fi
  echo "pidfile=$pid_file"
  echo "log-file=$log_file"
  echo "simple-log"
  if [ "$verbose" -eq 1 ]; then echo "verbose"; fi
} > "$conf.tmp"
mv "$conf.tmp" "$conf"
chmod 600 "$conf"
if [ -n "$proc_user" ]; then
  # After dropping privileges coturn still writes its log and user db.
  touch "$log_file"
  chown "$proc_user" "$dir" "$log_file"
fi

if [ "$cmd" = config ]; then echo "$conf"; exit 0; fi

if pid="$(running_pid)"; then die "turnserver already running (pid $pid, $pid_file): stop it first"; fi
rm -f "$pid_file"
if [ "$foreground" -eq 1 ]; then exec turnserver -c "$conf"; fi

turnserver -c "$conf" -o >/dev/null
for _ in $(seq 50); do
  if pid="$(running_pid)"; then echo "turn.sh: turnserver running, pid $pid, port $port, config $conf"; exit 0; fi
  sleep 0.1
done
die "turnserver did not start; see $log_file"
