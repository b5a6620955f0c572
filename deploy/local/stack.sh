#!/usr/bin/env bash
# Makes sure NATS (with JetStream), Redis and Mosquitto are reachable for Busway on this machine:
# use the ones already running; otherwise start them on loopback from PATH with temp data dirs;
# otherwise install them with apt-get (when root) and start them. Prints the URLs to use.
set -euo pipefail

NATS_PORT="${BUSWAY_NATS_PORT:-4222}"
REDIS_PORT="${BUSWAY_REDIS_PORT:-6379}"
MQTT_PORT="${BUSWAY_MQTT_PORT:-1883}"
STATE_DIR="${BUSWAY_STACK_DIR:-${TMPDIR:-/tmp}/busway-stack}"
mkdir -p "$STATE_DIR"

log() { echo "[stack] $*" >&2; }
listening() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
wait_port() {
  for _ in $(seq 1 100); do listening "$1" && return 0; sleep 0.1; done
  log "nothing listening on 127.0.0.1:$1 after 10 s"; return 1
}
find_bin() { command -v "$1" 2>/dev/null || { [ -x "/usr/sbin/$1" ] && echo "/usr/sbin/$1"; } || true; }

installed_apt=0
ensure_bin() { # name, debian package
  local bin; bin="$(find_bin "$1")"
  if [ -z "$bin" ]; then
    if [ "$(id -u)" != 0 ]; then log "$1 is missing and I am not root: install it with 'sudo apt-get install -y $2'"; exit 1; fi
    if [ "$installed_apt" = 0 ]; then log "apt-get update"; DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2; installed_apt=1; fi
    log "installing $2"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$2" >&2
    bin="$(find_bin "$1")"
  fi
  echo "$bin"
}

if listening "$NATS_PORT"; then log "NATS already on :$NATS_PORT"; else
  bin="$(ensure_bin nats-server nats-server)"
  mkdir -p "$STATE_DIR/nats"
  log "starting $bin on 127.0.0.1:$NATS_PORT (store $STATE_DIR/nats)"
  nohup "$bin" -a 127.0.0.1 -p "$NATS_PORT" -js -sd "$STATE_DIR/nats" >"$STATE_DIR/nats.log" 2>&1 &
  wait_port "$NATS_PORT"
fi

if listening "$REDIS_PORT"; then log "Redis already on :$REDIS_PORT"; else
  bin="$(ensure_bin redis-server redis-server)"
  # the Debian package may start its own service on install
  if ! listening "$REDIS_PORT"; then
    log "starting $bin on 127.0.0.1:$REDIS_PORT"
    "$bin" --daemonize yes --bind 127.0.0.1 --port "$REDIS_PORT" --save "" --appendonly no --dir "$STATE_DIR" \
      --logfile "$STATE_DIR/redis.log" >&2
    wait_port "$REDIS_PORT"
  fi
fi

if listening "$MQTT_PORT"; then log "Mosquitto already on :$MQTT_PORT"; else
  bin="$(ensure_bin mosquitto mosquitto)"
  if ! listening "$MQTT_PORT"; then
    printf 'listener %s 127.0.0.1\nallow_anonymous true\npersistence false\n' "$MQTT_PORT" >"$STATE_DIR/mosquitto.conf"
    log "starting $bin on 127.0.0.1:$MQTT_PORT"
    "$bin" -d -c "$STATE_DIR/mosquitto.conf"
    wait_port "$MQTT_PORT"
  fi
fi

# tests start their own servers from these binaries: make sure all three exist even when the ports were taken
ensure_bin nats-server nats-server >/dev/null
ensure_bin redis-server redis-server >/dev/null
ensure_bin mosquitto mosquitto >/dev/null

echo "NATS_URL=nats://127.0.0.1:$NATS_PORT"
echo "REDIS_URL=redis://127.0.0.1:$REDIS_PORT"
echo "MQTT_URL=mqtt://127.0.0.1:$MQTT_PORT"
