package deploy

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/mlflow-guard/mlflow-guard/internal/testenv"
)

// doubling writes n variables, each twice the previous: 2^n bytes if
// expanded naively.
func doubling(n int, assign func(i int, value string) string) string {
	var b strings.Builder
	b.WriteString(assign(0, "abcdefgh"))
	for i := 1; i <= n; i++ {
		b.WriteString(assign(i, fmt.Sprintf(`"$A%d$A%d"`, i-1, i-1)))
	}
	return b.String()
}

type hostile struct {
	name, file string
	k          kind
	src        string
	limitLine  int // the line the limit error names (0: any)
}

func hostileInputs() []hostile {
	const n = 200_000 // openers: 400 KB and more
	sh := func(i int, v string) string { return fmt.Sprintf("A%d=%s\n", i, v) }
	var mk strings.Builder
	mk.WriteString("run:\n")
	mk.WriteString("\tA0=abcdefgh; " + strings.TrimSuffix(strings.ReplaceAll(doubling(48, func(i int, v string) string {
		if i == 0 {
			return ""
		}
		return fmt.Sprintf("A%d=%s; ", i, strings.ReplaceAll(v, "$", "$$"))
	}), "\n", " "), " ") + " mlflow server --host $$A48\n")
	return []hostile{
		{"subst", "run.sh", kShell, "echo ok\n" + strings.Repeat("$(", n) + "x" + strings.Repeat(")", n) + "\n", 2},
		{"braces", "run.sh", kShell, strings.Repeat("{ ", n) + "x" + strings.Repeat("; }", n) + "\n", 1},
		{"subshells", "run.sh", kShell, strings.Repeat("(", n) + "x" + strings.Repeat(")", n) + "\n", 1},
		{"params", "run.sh", kShell, "echo " + strings.Repeat("${A:-", n) + "x" + strings.Repeat("}", n) + "\n", 1},
		{"quoted subst", "run.sh", kShell, "echo " + strings.Repeat(`"$(`, n/2) + "x" + strings.Repeat(`)"`, n/2) + "\n", 1},
		{"case patterns", "run.sh", kShell, strings.Repeat("$(case x in a) ", n/8) + "x" + strings.Repeat(";; esac)", n/8) + "\n", 1},
		{"arith parens", "run.sh", kShell, "echo $((" + strings.Repeat("(", n) + "1" + strings.Repeat(")", n) + "))\n", 1},
		{"ifs", "run.sh", kShell, strings.Repeat("if true; then ", n/4) + "x" + strings.Repeat("; fi", n/4) + "\n", 1},
		{"and chain", "run.sh", kShell, strings.Repeat("true && ", n/2) + "true\n", 1},
		{"arith chain", "run.sh", kShell, "echo $((" + strings.Repeat("1+", n) + "1))\n", 1},
		{"doubling shell", "run.sh", kShell, doubling(40, sh) + "mlflow server --host $A40\n", 0},
		{"doubling export", "run.sh", kShell, doubling(40, func(i int, v string) string { return fmt.Sprintf("export A%d=%s\n", i, v) }) + "mlflow server --host $A40\n", 0},
		{"doubling Dockerfile ENV", "Dockerfile", kDockerfile, "FROM python\n" + doubling(40, func(i int, v string) string { return fmt.Sprintf("ENV A%d=%s\n", i, v) }) + "CMD mlflow server --host $A40\n", 0},
		{"doubling Dockerfile ARG", "Dockerfile", kDockerfile, doubling(40, func(i int, v string) string { return fmt.Sprintf("ARG A%d=%s\n", i, v) }) + "FROM python\nCMD mlflow server --host $A40\n", 0},
		{"doubling Makefile", "Makefile", kMakefile, mk.String(), 0},
		{"doubling Procfile", "Procfile", kProcfile, "web: " + strings.ReplaceAll(doubling(40, sh), "\n", "; ") + "mlflow server --host $A40\n", 0},
		{"many servers", "run.sh", kShell, strings.Repeat("A=1 B=2 mlflow server --host 0.0.0.0\n", 20_000), 0},
		{"deep yaml", "docker-compose.yml", kYAML, "services:\n  a: " + strings.Repeat("[", n) + strings.Repeat("]", n) + "\n", 2},
		{"deep nginx", "nginx.conf", kNginx, strings.Repeat("location / {\n", n/10) + strings.Repeat("}\n", n/10), 0},
	}
}

// TestBoundedOnHostileInput: no generated input crashes the analyzer,
// runs away with memory, or ends without saying what it left out.
func TestBoundedOnHostileInput(t *testing.T) {
	if testing.Short() {
		t.Skip("generates megabytes of input")
	}
	a := newTest()
	for _, h := range hostileInputs() {
		t.Run(h.name, func(t *testing.T) {
			var fs *facts
			heap, rss := testenv.PeakMemory(func() { fs = a.analyzeBytes(h.file, h.k, []byte(h.src)) })
			t.Logf("%d bytes: Go heap peak %d MiB, RSS growth %d MiB; errors %v", len(h.src), heap>>20, rss>>20, fs.errs)
			var lim *struct{ line int }
			for _, e := range fs.errs {
				if e.Kind == "limit" {
					if e.Path != h.file || e.Message == "" {
						t.Errorf("limit error without file or cause: %+v", e)
					}
					lim = &struct{ line int }{e.Line}
					break
				}
			}
			if lim == nil {
				t.Fatalf("no limit error; errors %v", fs.errs)
			}
			if h.limitLine != 0 && lim.line != h.limitLine {
				t.Errorf("limit error at line %d, want %d", lim.line, h.limitLine)
			}
			for _, f := range fs.findings {
				if len(f.Message) > 1000 {
					t.Errorf("%d-byte finding message", len(f.Message))
				}
			}
			if heap > testenv.WorkerBudget/2 || rss > testenv.WorkerBudget {
				t.Errorf("peak memory over budget: Go heap %d MiB, RSS %d MiB", heap>>20, rss>>20)
			}
		})
	}
}

// TestExpansionKeepsSmallValues: the caps leave ordinary scripts alone, so
// a server bound through a chain of variables is still judged.
func TestExpansionKeepsSmallValues(t *testing.T) {
	src := "H=0.0.0.0\nA=$H\nB=\"$A\"\nmlflow server --host \"$B\" --port 5000\n"
	fs := newTest().analyzeBytes("run.sh", kShell, []byte(src))
	if len(fs.errs) != 0 || len(fs.servers) != 1 {
		t.Fatalf("errors %v, %d servers", fs.errs, len(fs.servers))
	}
	if h := fs.servers[0].opts["host"]; !h.known || h.s != "0.0.0.0" {
		t.Fatalf("host %+v", h)
	}
}

// TestCancelStopsInterpretation: a cancelled scan stops within a bounded
// number of steps and says so.
func TestCancelStopsInterpretation(t *testing.T) {
	src := strings.Repeat("mlflow server --host 0.0.0.0\n", 5000)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	fs := newTest().analyzeCtx(ctx, "run.sh", kShell, []byte(src))
	if len(fs.servers) >= 1024 {
		t.Fatalf("%d of 5000 servers interpreted after cancellation", len(fs.servers))
	}
	if len(fs.errs) != 1 || fs.errs[0].Kind != "unchecked" || !strings.Contains(fs.errs[0].Message, "cancel") {
		t.Fatalf("errors %v", fs.errs)
	}
	full := newTest().analyzeBytes("run.sh", kShell, []byte(src))
	if len(full.servers) != 1000 { // the per-file server cap
		t.Fatalf("uncancelled: %d servers", len(full.servers))
	}
}

// TestMessagesShowNoSecretOrGiantValue: a value quoted in a finding is
// cut, and what the secret detectors flag is masked.
func TestMessagesShowNoSecretOrGiantValue(t *testing.T) {
	token := "ghp_" + "hGAkWvj7FAc9QeWJKY40uvSwMFLZDe1f8rES"
	long := strings.Repeat("h", 5000)
	src := "MLFLOW_TRACKING_URI=http://" + token + ".example.com/\nexport MLFLOW_TRACKING_URI\n" +
		"mlflow server --host 0.0.0.0 --default-artifact-root http://" + long + ".example.com/a\n"
	a := newTest()
	fs := a.analyzeBytes("run.sh", kShell, []byte(src))
	a.facts = append(a.facts, fs)
	res := a.Finish(context.Background())
	if len(res.Findings) == 0 {
		t.Fatal("no findings")
	}
	sawToken, sawLong := false, false
	for _, f := range res.Findings {
		if strings.Contains(f.Message, token) {
			t.Errorf("secret printed: %s", f.Message)
		}
		if strings.Contains(f.Message, "ghp_") {
			sawToken = true
		}
		if strings.Contains(f.Message, "hhhh") {
			sawLong = true
			if len(f.Message) > 600 {
				t.Errorf("%d-byte message", len(f.Message))
			}
		}
	}
	if !sawToken || !sawLong {
		t.Errorf("the findings quoting both values are missing (token %v, long %v): %+v", sawToken, sawLong, res.Findings)
	}
}

// TestFinishCancelledSaysSo: a cancelled scan's cross-file judgement
// reports that it did not finish.
func TestFinishCancelledSaysSo(t *testing.T) {
	a := newTest()
	a.facts = append(a.facts, a.analyzeBytes("run.sh", kShell, []byte("mlflow server --host 0.0.0.0\n")))
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	res := a.Finish(ctx)
	if len(res.Errors) != 1 || res.Errors[0].Kind != "unchecked" || res.Errors[0].Path != "run.sh" {
		t.Fatalf("errors %+v", res.Errors)
	}
}
