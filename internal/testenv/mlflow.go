package testenv

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// MLflowOptions configure one `mlflow server` started for a test.
type MLflowOptions struct {
	// BackendURI is the backend store URI; empty means a fresh SQLite file
	// in a temporary directory.
	BackendURI string
	// ArtifactsDir is the --artifacts-destination; empty means a temp dir.
	ArtifactsDir string
	// BasicAuth runs the server with `--app-name basic-auth`. The admin
	// account is AdminUser/AdminPassword (a strong password: MLflow refuses
	// the historic default at bootstrap).
	BasicAuth     bool
	AdminUser     string
	AdminPassword string
	// Env adds variables to the server's environment.
	Env []string
	// ExtraArgs are appended to the `mlflow server` command line.
	ExtraArgs []string
	// StartTimeout bounds the wait for /health (default 90s).
	StartTimeout time.Duration
}

// MLflowServer is a running `mlflow server`.
type MLflowServer struct {
	URL          string
	BackendURI   string
	ArtifactsDir string
	// AuthDBURI is the basic-auth user database (BasicAuth only).
	AuthDBURI string
	// Dir is the server's private temporary directory.
	Dir string
	Log string

	cmd     *exec.Cmd
	stop    func()
	timeout time.Duration
}

// FreePort asks the kernel for a free loopback TCP port.
func FreePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("free port: %v", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// StartMLflow runs `.venv/bin/mlflow server` on a free loopback port and waits
// until /health answers. The whole process group is killed at test cleanup.
func StartMLflow(t testing.TB, opts MLflowOptions) *MLflowServer {
	t.Helper()
	s := LaunchMLflow(t, opts)
	s.Wait(t)
	return s
}

// LaunchMLflow starts the server without waiting for it, so a test can
// start several servers at once and then Wait for each.
func LaunchMLflow(t testing.TB, opts MLflowOptions) *MLflowServer {
	t.Helper()
	SkipIfShort(t, "an MLflow server")
	bin := filepath.Join(Venv(), "bin", "mlflow")
	if _, err := os.Stat(bin); err != nil {
		Require(t, "mlflow in the test virtualenv "+Venv()+" (run scripts/setup-pyenv.sh)")
	}
	dir := t.TempDir()
	s := &MLflowServer{Dir: dir, BackendURI: opts.BackendURI, ArtifactsDir: opts.ArtifactsDir}
	if s.BackendURI == "" {
		s.BackendURI = "sqlite:///" + filepath.Join(dir, "mlflow.db")
	}
	if s.ArtifactsDir == "" {
		s.ArtifactsDir = filepath.Join(dir, "artifacts")
	}
	port := FreePort(t)
	s.URL = "http://127.0.0.1:" + strconv.Itoa(port)
	args := []string{"server", "--host", "127.0.0.1", "--port", strconv.Itoa(port),
		"--workers", "1",
		"--backend-store-uri", s.BackendURI,
		"--artifacts-destination", s.ArtifactsDir,
		"--serve-artifacts"}
	env := append(os.Environ(), "MLFLOW_TRACKING_URI=", "PYTHONUNBUFFERED=1")
	if opts.BasicAuth {
		if opts.AdminUser == "" || opts.AdminPassword == "" {
			t.Fatal("StartMLflow: BasicAuth needs AdminUser and AdminPassword")
		}
		s.AuthDBURI = "sqlite:///" + filepath.Join(dir, "auth.db")
		ini := fmt.Sprintf("[mlflow]\ndefault_permission = READ\ndatabase_uri = %s\nadmin_username = %s\nadmin_password = %s\nauthorization_function = mlflow.server.auth:authenticate_request_basic_auth\n",
			s.AuthDBURI, opts.AdminUser, opts.AdminPassword)
		iniPath := filepath.Join(dir, "basic_auth.ini")
		if err := os.WriteFile(iniPath, []byte(ini), 0o600); err != nil {
			t.Fatal(err)
		}
		args = append(args, "--app-name", "basic-auth")
		// The auth app's CSRF protection refuses to start without a key.
		key := make([]byte, 24)
		_, _ = rand.Read(key)
		env = append(env, "MLFLOW_AUTH_CONFIG_PATH="+iniPath, "MLFLOW_FLASK_SERVER_SECRET_KEY="+hex.EncodeToString(key))
	}
	args = append(args, opts.ExtraArgs...)
	env = append(env, "MLFLOW_DISABLE_TELEMETRY=true", "DO_NOT_TRACK=true")
	env = append(env, opts.Env...)
	logPath := filepath.Join(dir, "server.log")
	logf, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	s.Log = logPath
	cmd := exec.Command(bin, args...)
	cmd.Dir = dir
	cmd.Env = env
	cmd.Stdout, cmd.Stderr = logf, logf
	// Own process group: mlflow forks uvicorn workers that must die with it.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		logf.Close()
		t.Fatalf("start mlflow server: %v", err)
	}
	var once sync.Once
	stop := func() {
		once.Do(func() {
			_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM)
			done := make(chan struct{})
			go func() { _ = cmd.Wait(); close(done) }()
			select {
			case <-done:
			case <-time.After(10 * time.Second):
				_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
				<-done
			}
			logf.Close()
		})
	}
	t.Cleanup(stop)
	s.stop, s.cmd = stop, cmd
	s.timeout = opts.StartTimeout
	if s.timeout == 0 {
		s.timeout = 180 * time.Second
	}
	return s
}

// Wait blocks until the server answers /health, or fails the test with the
// tail of the server log.
func (s *MLflowServer) Wait(t testing.TB) {
	t.Helper()
	if err := waitHealthy(s.URL+"/health", s.timeout, s.cmd); err != nil {
		s.stop()
		log, _ := os.ReadFile(s.Log)
		t.Fatalf("mlflow server did not come up: %v\n--- server log (tail) ---\n%s", err, tail(log, 4000))
	}
}

// Stop kills the server now (it is also killed at cleanup).
func (s *MLflowServer) Stop() { s.stop() }

func waitHealthy(url string, timeout time.Duration, cmd *exec.Cmd) error {
	deadline := time.Now().Add(timeout)
	cl := &http.Client{Timeout: 2 * time.Second}
	for time.Now().Before(deadline) {
		resp, err := cl.Get(url)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		// A zombie still answers signal 0; its /proc state tells it exited.
		if st, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", cmd.Process.Pid)); err != nil || strings.Contains(string(st), ") Z ") {
			return fmt.Errorf("server process exited")
		}
		time.Sleep(300 * time.Millisecond)
	}
	return fmt.Errorf("no healthy answer from %s within %s", url, timeout)
}

func tail(b []byte, n int) string {
	if len(b) > n {
		b = b[len(b)-n:]
	}
	return string(bytes.ToValidUTF8(b, []byte("?")))
}

// RunPython runs a script with the venv's python and fails the test with its
// output on error. env entries are added to the process environment.
func RunPython(t testing.TB, script string, env []string, args ...string) string {
	t.Helper()
	py := Python(t)
	cmd := exec.Command(py, append([]string{script}, args...)...)
	cmd.Env = append(append(os.Environ(), "MLFLOW_DISABLE_TELEMETRY=true", "DO_NOT_TRACK=true"), env...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", py, strings.Join(append([]string{script}, args...), " "), err, tail(out, 6000))
	}
	return string(out)
}
