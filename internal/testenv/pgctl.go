package testenv

import (
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"testing"
)

// pgRunAs is the command prefix that runs a PostgreSQL binary as the
// cluster's owner (the "postgres" user when the tests run as root).
func pgRunAs(t testing.TB) []string {
	t.Helper()
	if os.Geteuid() != 0 {
		return nil
	}
	if _, err := user.Lookup("postgres"); err != nil {
		Require(t, "a 'postgres' system user to run PostgreSQL as (running as root)")
	}
	return []string{"runuser", "-u", "postgres", "--"}
}

func (p *Postgres) pgctl(t testing.TB, args ...string) {
	t.Helper()
	full := append(pgRunAs(t), append([]string{filepath.Join(pgBinDir(), "pg_ctl"), "-D", filepath.Join(p.Dir, "data")}, args...)...)
	out, err := exec.Command(full[0], full[1:]...).CombinedOutput()
	if err != nil {
		t.Fatalf("pg_ctl %v: %v\n%s", args, err, tail(out, 2000))
	}
}

// Kill stops the cluster at once (like a crash), so a test can check what
// its clients do when the database goes away.
func (p *Postgres) Kill(t testing.TB) {
	t.Helper()
	p.pgctl(t, "-m", "immediate", "-w", "stop")
}

// Restart starts a cluster stopped by Kill again on the same port.
func (p *Postgres) Restart(t testing.TB) {
	t.Helper()
	opts := fmt.Sprintf("-c listen_addresses=127.0.0.1 -c port=%d -c unix_socket_directories=%s -c fsync=off -c full_page_writes=off -c synchronous_commit=off", p.Port, p.Dir)
	p.pgctl(t, "-l", filepath.Join(p.Dir, "server.log"), "-o", opts, "-w", "-t", "60", "start")
}
