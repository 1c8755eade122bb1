package deploy

import "testing"

func TestClientRun(t *testing.T) {
	words := func(ws ...string) []val {
		out := make([]val, len(ws))
		for i, w := range ws {
			out[i] = val{s: w, known: true}
		}
		return out
	}
	cases := []struct {
		argv []val
		want bool
	}{
		{words("python3", "./indexer.py"), true},
		{words("python", "-u", "jobs/mlflow_tracking.py", "--runs", "3"), true},
		{words("/bin/sh", "-c", "cd /app && python3 track.py; exit 0"), true},
		{words("python", "-m", "tracking.export"), true},
		{words("python", "serving/start_server.py"), false},
		{words("python", "app.py"), false},
		{words("python", "-m", "uvicorn", "api:app"), false},
		{words("python", "-c", "import mlflow"), false},
		{words("python3", "track.py", "|", "tee", "log"), false},
		{words("/bin/sh", "-c", "python3 track.py $EXTRA"), false},
		{words("mlflow", "run", "."), false},
		{words("gunicorn", "wsgi:app"), false},
		{words("/entrypoint.sh"), false},
		{words("/bin/sh", "-c", "exit 0"), false},
		{[]val{{s: "python3", known: true}, {s: "x.py"}}, false},
		{nil, false},
	}
	for _, c := range cases {
		if got := clientRun(c.argv); got != c.want {
			t.Errorf("clientRun(%v) = %v, want %v", c.argv, got, c.want)
		}
	}
}

func TestNonRootBase(t *testing.T) {
	cases := map[string]bool{
		"jupyter/scipy-notebook":                     true,
		"jupyter/scipy-notebook:2023-10-20":          true,
		"quay.io/jupyter/pytorch-notebook:latest":    true,
		"docker.io/jupyter/base-notebook@sha256:abc": true,
		"gcr.io/distroless/python3-debian12:nonroot": true,
		"gcr.io/distroless/static:debug-nonroot":     true,
		"gcr.io/distroless/python3-debian12":         false,
		"gcr.io/distroless/python3-debian12:latest":  false,
		"python:3.11-slim":                           false,
		"ghcr.io/mlflow/mlflow:v3.10.1":              false,
		"jupyter/scipy-notebook-fork":                false,
		"${BASE}":                                    false,
		"example.com/jupyter/scipy-notebook":         false,
	}
	for ref, want := range cases {
		if got := nonRootBase(ref); got != want {
			t.Errorf("nonRootBase(%q) = %v, want %v", ref, got, want)
		}
	}
}
