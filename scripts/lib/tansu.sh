# Sourced by scripts/test.sh and scripts/bench.sh: tansu (a Kafka-compatible broker from
# crates.io), installed once per machine in the background, and started on a port.
TANSU_VERSION=0.6.0
export PATH="$HOME/.cargo/bin:$PATH"
tansu_install_pid=

# Starts the install in the background when tansu is missing (about 15 minutes on two
# cores); `tansu_wait_installed` waits for it.
tansu_install_in_background() {
  if ! command -v tansu >/dev/null 2>&1; then
    echo "==> installing tansu $TANSU_VERSION in the background (once)"
    cargo install tansu --version "$TANSU_VERSION" --locked --features "dynostore libsql" \
      >target/tansu-install.log 2>&1 &
    tansu_install_pid=$!
  fi
}

tansu_wait_installed() {
  if [ -n "$tansu_install_pid" ]; then
    echo "==> waiting for the tansu install"
    if ! wait "$tansu_install_pid"; then echo "installing tansu failed:"; tail -50 target/tansu-install.log; exit 1; fi
  fi
}

# tansu_start PORT LOG: starts an in-memory tansu on 127.0.0.1:PORT, sets tansu_pid and
# waits until it accepts connections.
tansu_start() {
  local port=$1 log=$2
  tansu broker --listener-url "tcp://127.0.0.1:$port" --advertised-listener-url "tcp://127.0.0.1:$port" \
    --storage-engine memory://tansu/ >"$log" 2>&1 &
  tansu_pid=$!
  for _ in $(seq 1 100); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then return 0; fi
    if ! kill -0 "$tansu_pid" 2>/dev/null; then echo "tansu failed to start:"; cat "$log"; exit 1; fi
    sleep 0.1
  done
  echo "tansu did not start listening on $port:"; cat "$log"; exit 1
}
