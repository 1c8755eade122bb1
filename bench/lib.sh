# Helpers the bench scripts source (not run on their own).

# ports N prints N distinct free loopback ports: every socket stays bound
# until all are, so one call never hands out a port twice.
ports() {
  python3 -c '
import socket, sys
ss = [socket.socket() for _ in range(int(sys.argv[1]))]
for s in ss: s.bind(("127.0.0.1", 0))
print(" ".join(str(s.getsockname()[1]) for s in ss))' "$1"
}

# waitfor URL [LOG] waits up to two minutes for URL to answer 2xx; when it
# does not, it prints the service's LOG (the caller's work directory is
# removed on exit) and exits.
waitfor() {
  for _ in $(seq 1 600); do curl -sf -o /dev/null "$1" && return 0; sleep 0.2; done
  echo "not up: $1" >&2
  [ -n "${2:-}" ] && tail -n 30 "$2" >&2
  exit 1
}
