# shellcheck shell=bash
# Sourced by .ci/run: a throwaway Prometheus on loopback for
# cmd/diagctl/prometheus_test.go, a real Go server with net/http/pprof that
# nobody on this team wrote.
#
#   prometheus_install  install Debian's prometheus (CI=true, or not installed)
#   prometheus_start    start it on 127.0.0.1, wait until ready, and export
#                       DIAGKIT_TEST_PROMETHEUS=127.0.0.1:PORT (and its PID)
#   prometheus_stop     stop it by its PID and remove its files (for a trap)
#
# The instance is ours alone: its own config and storage in a mktemp -d
# directory, its own port. A system prometheus service, if the package
# started one, is not touched.

PROM_PID=""
PROM_DIR=""
PROM_ADDR=""

prom_log() { echo "prometheus: $*"; }

# shellcheck source=.ci/apt.sh
source "$(dirname "${BASH_SOURCE[0]}")/apt.sh"

prometheus_install() { apt_install prometheus prometheus; }

# prom_listening reports whether something accepts connections on the port.
prom_listening() {
	(exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# prom_ready reports whether 127.0.0.1:$1 answers GET /-/ready with 200,
# within 2 s, without needing curl.
prom_ready() {
	local status
	status=$(
		exec 2>/dev/null
		exec 3<>"/dev/tcp/127.0.0.1/$1" || exit 1
		printf 'GET /-/ready HTTP/1.0\r\nHost: 127.0.0.1:%s\r\n\r\n' "$1" >&3
		IFS= read -r -t 2 line <&3
		printf '%s' "$line"
	) || return 1
	case "$status" in "HTTP/"*" 200"*) return 0 ;; esac
	return 1
}

# prometheus_start starts prometheus on the first free port from 19090 (up to
# 10 tries: a port taken between the check and the bind makes prometheus exit,
# and the next port is tried), scraping itself every second so that it has
# series to query and work to do. It waits at most 30 s for /-/ready.
prometheus_start() {
	if ! command -v prometheus >/dev/null 2>&1; then
		prom_log "not installed: the Prometheus test will skip (and fail under CI=true)"
		return 0
	fi
	PROM_DIR=$(mktemp -d "${TMPDIR:-/tmp}/diagkit-prometheus.XXXXXX")
	local port=19090 tries=0
	while [ "$tries" -lt 10 ]; do
		while prom_listening "$port"; do port=$((port + 1)); done
		tries=$((tries + 1))
		cat >"$PROM_DIR/prometheus.yml" <<EOF
global:
  scrape_interval: 1s
  evaluation_interval: 1s
scrape_configs:
  - job_name: self
    static_configs:
      - targets: ['127.0.0.1:$port']
EOF
		prometheus \
			--config.file="$PROM_DIR/prometheus.yml" \
			--storage.tsdb.path="$PROM_DIR/data" \
			--web.listen-address="127.0.0.1:$port" \
			--log.level=warn \
			>"$PROM_DIR/log" 2>&1 </dev/null &
		PROM_PID=$!
		local deadline=$((SECONDS + 30))
		while [ "$SECONDS" -lt "$deadline" ]; do
			if ! kill -0 "$PROM_PID" 2>/dev/null; then
				break # it exited: port taken, or a real failure
			fi
			if prom_ready "$port"; then
				PROM_ADDR="127.0.0.1:$port"
				export DIAGKIT_TEST_PROMETHEUS="$PROM_ADDR"
				# The test reads the PID too, so go test's result cache is
				# keyed on this instance: a new one re-runs the test.
				export DIAGKIT_TEST_PROMETHEUS_PID="$PROM_PID"
				prom_log "ready on $PROM_ADDR (pid $PROM_PID, files in $PROM_DIR)"
				return 0
			fi
			sleep 0.2
		done
		if kill -0 "$PROM_PID" 2>/dev/null; then
			prom_log "not ready within 30 s on 127.0.0.1:$port; its log:"
			sed 's/^/  /' "$PROM_DIR/log"
			return 1
		fi
		wait "$PROM_PID" 2>/dev/null || true
		PROM_PID=""
		if ! grep -q "address already in use" "$PROM_DIR/log"; then
			prom_log "exited before it was ready; its log:"
			sed 's/^/  /' "$PROM_DIR/log"
			return 1
		fi
		port=$((port + 1))
	done
	prom_log "no free port found after $tries tries"
	return 1
}

# prometheus_stop stops the instance prometheus_start started, by its PID:
# SIGTERM, then SIGKILL after 10 s. Safe to call more than once.
prometheus_stop() {
	if [ -n "$PROM_PID" ] && kill -0 "$PROM_PID" 2>/dev/null; then
		kill -TERM "$PROM_PID" 2>/dev/null || true
		local deadline=$((SECONDS + 10))
		while kill -0 "$PROM_PID" 2>/dev/null && [ "$SECONDS" -lt "$deadline" ]; do
			sleep 0.1
		done
		if kill -0 "$PROM_PID" 2>/dev/null; then
			prom_log "pid $PROM_PID ignored SIGTERM for 10 s: SIGKILL"
			kill -KILL "$PROM_PID" 2>/dev/null || true
		fi
		wait "$PROM_PID" 2>/dev/null || true
		prom_log "stopped (pid $PROM_PID)"
	fi
	PROM_PID=""
	if [ -n "$PROM_DIR" ]; then
		rm -rf "$PROM_DIR"
		PROM_DIR=""
	fi
}
