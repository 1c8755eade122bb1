package testenv

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// pgBinDir finds the PostgreSQL server binaries (initdb, pg_ctl).
func pgBinDir() string {
	if d := os.Getenv("MLFLOW_GUARD_PG_BIN"); d != "" {
		return d
	}
	matches, _ := filepath.Glob("/usr/lib/postgresql/*/bin/initdb")
	if len(matches) == 0 {
		return ""
	}
	return filepath.Dir(matches[len(matches)-1])
}

// Postgres is a throwaway PostgreSQL cluster.
type Postgres struct {
	// DSN is a postgres:// URL for the superuser "postgres" on database
	// "postgres" (trust authentication, loopback only).
	DSN  string
	Port int
	Dir  string
}

// URL returns a postgres:// URL for database db on this cluster.
func (p *Postgres) URL(db string) string {
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/%s?sslmode=disable", p.Port, db)
}

// StartPostgres initialises a fresh cluster in a temporary directory, starts
// it on a free loopback port with its socket in that directory, and stops it
// at cleanup. PostgreSQL refuses to run as root, so under root the cluster is
// owned by and run as the "postgres" system user.
func StartPostgres(t testing.TB) *Postgres {
	t.Helper()
	SkipIfShort(t, "a PostgreSQL server")
	bin := pgBinDir()
	if bin == "" {
		Require(t, "PostgreSQL server binaries: no /usr/lib/postgresql/*/bin/initdb and MLFLOW_GUARD_PG_BIN is not set (install the postgresql package, or set MLFLOW_GUARD_PG_BIN to the directory holding initdb and pg_ctl)")
	}
	dir, err := os.MkdirTemp("", "mlflow-guard-pg-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	data := filepath.Join(dir, "data")
	var runAs []string
	if os.Geteuid() == 0 {
		u, err := user.Lookup("postgres")
		if err != nil {
			Require(t, "a 'postgres' system user to run PostgreSQL as (running as root)")
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		if err := os.Chown(dir, uid, gid); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(dir, 0o700); err != nil {
			t.Fatal(err)
		}
		runAs = []string{"runuser", "-u", "postgres", "--"}
	}
	run := func(name string, args ...string) {
		t.Helper()
		full := append(append([]string{}, runAs...), append([]string{filepath.Join(bin, name)}, args...)...)
		cmd := exec.Command(full[0], full[1:]...)
		cmd.Dir = dir
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("%s: %v\n%s", strings.Join(full, " "), err, tail(out, 4000))
		}
	}
	run("initdb", "-D", data, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-locale")
	port := FreePort(t)
	opts := fmt.Sprintf("-c listen_addresses=127.0.0.1 -c port=%d -c unix_socket_directories=%s -c fsync=off -c full_page_writes=off -c synchronous_commit=off", port, dir)
	run("pg_ctl", "-D", data, "-l", filepath.Join(dir, "server.log"), "-o", opts, "-w", "-t", "60", "start")
	t.Cleanup(func() {
		full := append(append([]string{}, runAs...), filepath.Join(bin, "pg_ctl"), "-D", data, "-m", "immediate", "-w", "stop")
		cmd := exec.Command(full[0], full[1:]...)
		_ = cmd.Run()
	})
	p := &Postgres{Port: port, Dir: dir}
	p.DSN = p.URL("postgres")
	// pg_ctl -w returns once the postmaster accepts connections; give a
	// slow machine a moment more for the TCP listener.
	time.Sleep(100 * time.Millisecond)
	return p
}

// CreateDB creates an empty database owned by the superuser.
func (p *Postgres) CreateDB(t testing.TB, name string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, p.DSN)
	if err != nil {
		t.Fatalf("connect to test PostgreSQL: %v", err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize()); err != nil {
		t.Fatalf("create database %s: %v", name, err)
	}
	return p.URL(name)
}
