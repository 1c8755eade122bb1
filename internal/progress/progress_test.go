package progress

import (
	"bytes"
	"io"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/creack/pty"
)

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

// openPTY gives a real terminal: the decision is made by the same
// term.IsTerminal call the CLI makes on its stderr.
func openPTY(t *testing.T) (ptmx, tty *os.File) {
	t.Helper()
	ptmx, tty, err := pty.Open()
	if err != nil {
		t.Skipf("no pty on this machine: %v", err)
	}
	t.Cleanup(func() { tty.Close(); ptmx.Close() })
	return ptmx, tty
}

func TestWanted(t *testing.T) {
	_, tty := openPTY(t)
	pr, pw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer pr.Close()
	defer pw.Close()
	file, err := os.Create(t.TempDir() + "/log")
	if err != nil {
		t.Fatal(err)
	}
	defer file.Close()
	none := env(nil)
	cases := []struct {
		name  string
		w     io.Writer
		quiet bool
		env   func(string) string
		want  bool
	}{
		{"terminal", tty, false, none, true},
		{"terminal -q", tty, true, none, false},
		{"terminal CI", tty, false, env(map[string]string{"CI": "true"}), false},
		{"terminal TERM=dumb", tty, false, env(map[string]string{"TERM": "dumb"}), false},
		{"pipe", pw, false, none, false},
		{"file", file, false, none, false},
		{"buffer", &bytes.Buffer{}, false, none, false},
	}
	for _, c := range cases {
		if got := Wanted(c.w, c.quiet, c.env); got != c.want {
			t.Errorf("%s: Wanted = %v, want %v", c.name, got, c.want)
		}
	}
}

// The line stays silent below the threshold and then shows the count, the
// rate and the elapsed time on the terminal; Finish clears it.
func TestLineThreshold(t *testing.T) {
	var out bytes.Buffer
	l := New(&out, "scan", "files", 1000)
	for i := 0; i < 999; i++ {
		l.Add(1)
	}
	if out.Len() != 0 || l.Active() {
		t.Fatalf("drew below the threshold: %q", out.String())
	}
	time.Sleep(150 * time.Millisecond) // past the throttle
	l.Add(1)
	if !l.Active() {
		t.Fatal("not active at the threshold")
	}
	got := out.String()
	for _, want := range []string{"scan", "1000", "files/s", "s]"} {
		if !strings.Contains(got, want) {
			t.Errorf("line %q lacks %q", got, want)
		}
	}
	n := out.Len()
	l.Finish()
	if out.Len() == n {
		t.Error("Finish did not clear the line")
	}
	n = out.Len()
	l.Add(5)
	if out.Len() != n {
		t.Error("drew after Finish")
	}
}

func TestNilLine(t *testing.T) {
	var l *Line = New(nil, "scan", "files", 0)
	l.Add(1)
	l.Set(3)
	l.Describe("x")
	l.Finish()
	if l.Active() {
		t.Fatal("nil line is active")
	}
}

// On a real terminal the bytes arrive on the other side of the pty.
func TestLineOnPTY(t *testing.T) {
	ptmx, tty := openPTY(t)
	if !Wanted(tty, false, env(nil)) {
		t.Fatal("pty is not a terminal")
	}
	l := New(tty, "audit", "runs", 0)
	l.Set(42)
	l.Finish()
	buf := make([]byte, 4096)
	_ = ptmx.SetReadDeadline(time.Now().Add(2 * time.Second))
	n, err := ptmx.Read(buf)
	if err != nil {
		t.Fatalf("read pty: %v", err)
	}
	if !strings.Contains(string(buf[:n]), "42") {
		t.Fatalf("pty got %q", buf[:n])
	}
}
