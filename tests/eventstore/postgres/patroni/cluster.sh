#!/usr/bin/env bash
# A PostgreSQL cluster for jobtrail's shared log on one machine: etcd and
# two (or more) Patroni-managed PostgreSQL 15 nodes on loopback, a primary
# with a synchronous standby (patroni.yml.in says why). Debian packages:
# postgresql-15, patroni, etcd-server (.ci/install-deps).
#
#   cluster.sh start DIR   start etcd and the nodes under DIR, wait for a
#                          primary and its synchronous standby, create the
#                          role `jobtrail` and database `jobs`, and print the
#                          URL for `jobtrail serve --log` (also in DIR/url)
#   cluster.sh stop DIR    stop everything started under DIR and remove DIR
#   cluster.sh kill DIR    the same at once (SIGKILL, pg_ctl -m immediate):
#                          for tests, whose clusters hold nothing to keep
#
# Ports come from the environment (defaults in brackets): ETCD_PORT [23790],
# ETCD_PEER_PORT [23800], PG_PORTS ["5441 5442"], REST_PORTS ["8441 8442"],
# one PostgreSQL and one Patroni REST port a node; STRICT [false] is
# Patroni's synchronous_mode_strict (true wants three nodes or more).
# Run as root, the servers run as the unprivileged `postgres` user
# (PostgreSQL refuses root). The failover test (tests/cli/
# patroni_failover_test.cc) runs this script with free ports of its own.
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
cmd="${1:-}"
dir="${2:-}"
[ -n "$cmd" ] && [ -n "$dir" ] || { sed -n '2,20p' "$0"; exit 2; }

etcd_port="${ETCD_PORT:-23790}"
etcd_peer_port="${ETCD_PEER_PORT:-23800}"
read -r -a pg_ports <<<"${PG_PORTS:-5441 5442}"
read -r -a rest_ports <<<"${REST_PORTS:-8441 8442}"
strict="${STRICT:-false}"
nodes=${#pg_ports[@]}

# Runs a command as postgres when we are root (PostgreSQL refuses root).
as_pg() {
  if [ "$(id -u)" -eq 0 ]; then
    setpriv --reuid=postgres --regid=postgres --init-groups env HOME="$dir" "$@"
  else
    env HOME="$dir" "$@"
  fi
}
# The same in the background, replacing the forked shell (setpriv and env
# exec too), so $! is the server's own pid: what `stop` and the failover
# test signal.
spawn_pg() {
  local out=$1
  shift
  if [ "$(id -u)" -eq 0 ]; then
    exec setpriv --reuid=postgres --regid=postgres --init-groups env HOME="$dir" "$@" >"$out" 2>&1
  else
    exec env HOME="$dir" "$@" >"$out" 2>&1
  fi
}

# Polls a condition until it holds or $1 seconds passed.
wait_for() {
  local limit=$1 what=$2
  shift 2
  local deadline=$((SECONDS + limit))
  until "$@" >/dev/null 2>&1; do
    if ((SECONDS > deadline)); then
      echo "cluster.sh: timed out after ${limit}s waiting for $what" >&2
      return 1
    fi
    sleep 0.1
  done
}

http_ok() { curl -sf -o /dev/null --max-time 2 "$1"; }

url() {
  local hosts=""
  for p in "${pg_ports[@]}"; do hosts+="${hosts:+,}127.0.0.1:$p"; done
  echo "postgresql://jobtrail@$hosts/jobs?target_session_attrs=read-write"
}

start() {
  mkdir -p "$dir"
  if [ "$(id -u)" -eq 0 ]; then chown postgres:postgres "$dir"; fi
  as_pg mkdir -p "$dir/etcd"
  spawn_pg "$dir/etcd/etcd.log" etcd --name etcd1 --data-dir "$dir/etcd/data" \
    --listen-client-urls "http://127.0.0.1:$etcd_port" \
    --advertise-client-urls "http://127.0.0.1:$etcd_port" \
    --listen-peer-urls "http://127.0.0.1:$etcd_peer_port" \
    --initial-advertise-peer-urls "http://127.0.0.1:$etcd_peer_port" \
    --initial-cluster "etcd1=http://127.0.0.1:$etcd_peer_port" &
  echo $! >"$dir/etcd/pid"
  wait_for 30 "etcd" http_ok "http://127.0.0.1:$etcd_port/health"

  for ((i = 0; i < nodes; i++)); do
    local name="pg$((i + 1))" node="$dir/pg$((i + 1))"
    as_pg mkdir -p "$node"
    sed -e "s|@NAME@|$name|g" -e "s|@NODE_DIR@|$node|g" \
      -e "s|@REST_PORT@|${rest_ports[$i]}|g" -e "s|@PG_PORT@|${pg_ports[$i]}|g" \
      -e "s|@ETCD_PORT@|$etcd_port|g" -e "s|@STRICT@|$strict|g" \
      "$here/patroni.yml.in" >"$node/patroni.yml"
    chmod 644 "$node/patroni.yml"
    spawn_pg "$node/patroni.out" patroni "$node/patroni.yml" &
    echo $! >"$node/pid"
    if ((i == 0)); then
      # The first node bootstraps (initdb) and becomes the primary; the
      # others then clone it (pg_basebackup) and follow.
      wait_for 120 "pg1 to be the primary" http_ok "http://127.0.0.1:${rest_ports[0]}/primary"
    fi
  done
  for ((i = 1; i < nodes; i++)); do
    wait_for 120 "pg$((i + 1)) to stream from the primary" \
      http_ok "http://127.0.0.1:${rest_ports[$i]}/replica"
  done
  sync_standby() {
    for ((i = 1; i < nodes; i++)); do
      http_ok "http://127.0.0.1:${rest_ports[$i]}/sync" && return 0
    done
    return 1
  }
  wait_for 120 "a synchronous standby" sync_standby

  PGCONNECT_TIMEOUT=10 psql -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "${pg_ports[0]}" \
    -U postgres -d postgres \
    -c "CREATE ROLE jobtrail LOGIN" -c "CREATE DATABASE jobs OWNER jobtrail" >/dev/null
  url | tee "$dir/url"
}

gone() { for p in "$@"; do kill -0 "$p" 2>/dev/null && return 1; done; return 0; }

stop() {
  local signal=$1
  [ -d "$dir" ] || return 0
  local pids=()
  for f in "$dir"/pg*/pid; do
    [ -f "$f" ] && pids+=("$(cat "$f")")
  done
  # Patroni stops its PostgreSQL on SIGTERM.
  for p in "${pids[@]}"; do kill "-$signal" "$p" 2>/dev/null || true; done
  wait_for 60 "Patroni to stop" gone "${pids[@]}" || true
  for p in "${pids[@]}"; do kill -KILL "$p" 2>/dev/null || true; done
  # A postmaster left behind (its Patroni was killed) stops at once.
  for d in "$dir"/pg*/data; do
    if [ -f "$d/postmaster.pid" ]; then
      as_pg /usr/lib/postgresql/15/bin/pg_ctl -D "$d" -m immediate -w -t 30 stop \
        >/dev/null 2>&1 || true
    fi
  done
  if [ -f "$dir/etcd/pid" ]; then
    local e
    e="$(cat "$dir/etcd/pid")"
    kill "-$signal" "$e" 2>/dev/null || true
    wait_for 30 "etcd to stop" gone "$e" || kill -KILL "$e" 2>/dev/null || true
  fi
  rm -rf "$dir"
}

case "$cmd" in
  start) start ;;
  stop) stop TERM ;;
  kill) stop KILL ;;
  url) url ;;
  *) sed -n '2,20p' "$0"; exit 2 ;;
esac
