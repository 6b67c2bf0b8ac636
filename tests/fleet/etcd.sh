# shellcheck shell=bash
# Starts and stops a throw-away etcd cluster for the fleet tests: N members
# on 127.0.0.1 with free ports and data directories under $ETCD_DIR, their
# logs there too. Sets ETCD_URLS (client URLs, comma-separated), ETCD_URL
# (the first) and ETCD_PIDS. The caller's EXIT trap must call etcd_stop.
# ETCD_LISTEN (default 127.0.0.1) is the address the members' client URLs
# listen on (0.0.0.0: reachable from other namespaces too); ETCD_URLS
# names 127.0.0.1 all the same.
# ETCD_ARGS: more options for every member (split on spaces). ETCD_RESTORE:
# an etcd snapshot file (etcdctl snapshot save) every member starts from.
#
#   etcd_start 3 && etcdctl --endpoints "$ETCD_URLS" endpoint health

ETCD_PIDS=()
ETCD_URLS=
# shellcheck disable=SC2034 # for the caller
ETCD_URL=

# free_ports N: N TCP ports nobody listens on now (the kernel's choice).
free_ports() {
	python3 - "$1" <<'EOF'
import socket, sys
socks = [socket.socket() for _ in range(int(sys.argv[1]))]
for s in socks:
    s.bind(("127.0.0.1", 0))
print(" ".join(str(s.getsockname()[1]) for s in socks))
EOF
}

# etcd_start N: 0 once every member answers, 1 (and the logs' tails) if not.
etcd_start() {
	local n=$1 i ports cluster="" client peer extra
	read -ra extra <<<"${ETCD_ARGS:-}"
	# In memory: a loaded CI host's disk makes fsyncs take seconds.
	ETCD_DIR=${ETCD_DIR:-$(mktemp -d -p /dev/shm 2>/dev/null || mktemp -d)}
	read -ra ports <<<"$(free_ports $((2 * n)))"
	for ((i = 0; i < n; i++)); do
		cluster+="${cluster:+,}m$i=http://127.0.0.1:${ports[2 * i + 1]}"
	done
	ETCD_URLS=
	for ((i = 0; i < n; i++)); do
		client=http://127.0.0.1:${ports[2 * i]}
		peer=http://127.0.0.1:${ports[2 * i + 1]}
		if [ -n "${ETCD_RESTORE:-}" ] && ! ETCDCTL_API=3 etcdctl snapshot restore \
			"$ETCD_RESTORE" --name "m$i" --data-dir "$ETCD_DIR/m$i" \
			--initial-cluster "$cluster" --initial-cluster-token "rnat-test-$$" \
			--initial-advertise-peer-urls "$peer" >"$ETCD_DIR/m$i.restore.log" 2>&1; then
			sed 's/^/#   /' "$ETCD_DIR/m$i.restore.log"
			return 1
		fi
		etcd --name "m$i" --data-dir "$ETCD_DIR/m$i" \
			--listen-client-urls "http://${ETCD_LISTEN:-127.0.0.1}:${ports[2 * i]}" \
			--advertise-client-urls "$client" \
			--listen-peer-urls "$peer" --initial-advertise-peer-urls "$peer" \
			--initial-cluster "$cluster" --initial-cluster-state new \
			--initial-cluster-token "rnat-test-$$" \
			--heartbeat-interval 200 --election-timeout 4000 "${extra[@]}" \
			>"$ETCD_DIR/m$i.log" 2>&1 &
		ETCD_PIDS+=($!)
		ETCD_URLS+="${ETCD_URLS:+,}$client"
	done
	# shellcheck disable=SC2034 # for the caller
	ETCD_URL=${ETCD_URLS%%,*}
	for ((i = 0; i < 100; i++)); do
		if ETCDCTL_API=3 etcdctl --endpoints "$ETCD_URLS" endpoint health \
			>/dev/null 2>&1; then
			return 0
		fi
		sleep 0.2
	done
	for ((i = 0; i < n; i++)); do
		tail -n 5 "$ETCD_DIR/m$i.log" | sed 's/^/#   /'
	done
	return 1
}

# etcd_stop: kills the members this shell started, removes their data.
etcd_stop() {
	local p
	for p in "${ETCD_PIDS[@]}"; do
		kill "$p" 2>/dev/null
	done
	for p in "${ETCD_PIDS[@]}"; do
		wait "$p" 2>/dev/null
	done
	ETCD_PIDS=()
	[ -n "${ETCD_DIR:-}" ] && rm -rf "$ETCD_DIR"
}

# etcd_up N: etcd_start N as a check, with the caller's pass and fail;
# exits 1 if the cluster did not come up.
etcd_up() {
	if etcd_start "$1"; then
		pass "etcd up: $1 member(s) at $ETCD_URLS"
	else
		fail "etcd up: $1 member(s)"
		exit 1
	fi
}
