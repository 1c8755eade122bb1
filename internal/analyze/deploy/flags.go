package deploy

import (
	"path"
	"strings"
)

// serverFlags maps every spelling of an `mlflow server` option that the
// rules read to its canonical name; isFlag marks options that take no value.
// Names and short forms are those of MLflow 3.17.2's CLI (mlflow/cli and
// mlflow/utils/cli_args.py).
var serverFlags = map[string]string{
	"--backend-store-uri":              "backend-store-uri",
	"--file-store":                     "backend-store-uri", // pre-2.0 spelling
	"--registry-store-uri":             "registry-store-uri",
	"--read-replica-backend-store-uri": "read-replica-backend-store-uri",
	"--default-artifact-root":          "default-artifact-root",
	"--artifacts-destination":          "artifacts-destination",
	"--host":                           "host",
	"-h":                               "host",
	"--port":                           "port",
	"-p":                               "port",
	"--workers":                        "workers",
	"-w":                               "workers",
	"--allowed-hosts":                  "allowed-hosts",
	"--cors-allowed-origins":           "cors-allowed-origins",
	"--x-frame-options":                "x-frame-options",
	"--disable-security-middleware":    "disable-security-middleware",
	"--gunicorn-opts":                  "gunicorn-opts",
	"--uvicorn-opts":                   "uvicorn-opts",
	"--waitress-opts":                  "waitress-opts",
	"--app-name":                       "app-name",
	"--static-prefix":                  "static-prefix",
	"--expose-prometheus":              "expose-prometheus",
	"--artifacts-only":                 "artifacts-only",
	"--serve-artifacts":                "serve-artifacts",
	"--no-serve-artifacts":             "no-serve-artifacts",
	"--dev":                            "dev",
	"--enable-workspaces":              "enable-workspaces",
	"--disable-workspaces":             "disable-workspaces",
	"--workspace-store-uri":            "workspace-store-uri",
	"--trace-archival-config":          "trace-archival-config",
	"--secrets-cache-ttl":              "secrets-cache-ttl",
	"--secrets-cache-max-size":         "secrets-cache-max-size",
}

var boolFlags = map[string]bool{
	"disable-security-middleware": true, "artifacts-only": true, "serve-artifacts": true,
	"no-serve-artifacts": true, "dev": true, "enable-workspaces": true, "disable-workspaces": true,
}

// envFor is the environment variable click reads for a canonical option
// when the flag is absent (envvar= in MLflow's CLI source).
var envFor = map[string]string{
	"backend-store-uri":              "MLFLOW_BACKEND_STORE_URI",
	"registry-store-uri":             "MLFLOW_REGISTRY_STORE_URI",
	"read-replica-backend-store-uri": "MLFLOW_READ_REPLICA_BACKEND_STORE_URI",
	"default-artifact-root":          "MLFLOW_DEFAULT_ARTIFACT_ROOT",
	"artifacts-destination":          "MLFLOW_ARTIFACTS_DESTINATION",
	"host":                           "MLFLOW_HOST",
	"port":                           "MLFLOW_PORT",
	"workers":                        "MLFLOW_WORKERS",
	"allowed-hosts":                  "MLFLOW_SERVER_ALLOWED_HOSTS",
	"cors-allowed-origins":           "MLFLOW_SERVER_CORS_ALLOWED_ORIGINS",
	"x-frame-options":                "MLFLOW_SERVER_X_FRAME_OPTIONS",
	"disable-security-middleware":    "MLFLOW_SERVER_DISABLE_SECURITY_MIDDLEWARE",
	"gunicorn-opts":                  "MLFLOW_GUNICORN_OPTS",
	"uvicorn-opts":                   "MLFLOW_UVICORN_OPTS",
	"artifacts-only":                 "MLFLOW_ARTIFACTS_ONLY",
	"static-prefix":                  "MLFLOW_STATIC_PREFIX",
	"workspace-store-uri":            "MLFLOW_WORKSPACE_STORE_URI",
}

// wrappers run their argument vector as a command; the value says how many
// of their own leading arguments to skip (-1: skip option words only).
var wrappers = map[string]int{
	"exec": 0, "nohup": 0, "time": 0, "nice": -1, "sudo": -1, "doas": -1, "tini": -1,
	"dumb-init": -1, "gosu": 1, "su-exec": 1, "setpriv": -1, "catatonit": -1, "stdbuf": -1,
	"timeout": 1, "xargs": -1, "chpst": -1,
}

// wrapperValueOpts are wrapper options that take a separate value word.
var wrapperValueOpts = map[string]map[string]bool{
	"sudo":    {"-u": true, "-g": true, "-C": true, "-D": true, "-U": true, "-p": true},
	"nice":    {"-n": true},
	"timeout": {"-s": true, "-k": true, "--signal": true, "--kill-after": true},
	"chpst":   {"-u": true, "-U": true, "-e": true, "-n": true, "-l": true, "-L": true},
}

// runners are "<tool> run ..." launchers.
var runners = map[string]bool{"uv": true, "poetry": true, "pipenv": true, "pdm": true, "hatch": true, "rye": true, "conda": true, "mamba": true, "micromamba": true, "pixi": true}

// invocation is what an argument vector starts: an MLflow server, a model
// server, or nothing we judge.
type invocation struct {
	kind string // "server", "gunicorn", "uvicorn", "models", ""
	args []val  // arguments after the subcommand
	at   val    // the word that names the program
	envs []val  // NAME=value words given to `env`
	sub  string // models subcommand
	cmd  []val  // for kind "": the command after launchers and wrappers
}

func base(s string) string { return path.Base(strings.ReplaceAll(s, "\\", "/")) }

// classify strips launchers and wrappers and says what argv runs.
func classify(argv []val) invocation {
	var envs []val
	for guard := 0; len(argv) > 0 && guard < 16; guard++ {
		a := argv[0]
		if !a.known {
			return invocation{}
		}
		b := base(a.s)
		switch {
		case b == "env":
			argv = argv[1:]
			for len(argv) > 0 && argv[0].known && (strings.HasPrefix(argv[0].s, "-") || strings.Contains(argv[0].s, "=")) {
				if strings.Contains(argv[0].s, "=") && !strings.HasPrefix(argv[0].s, "-") {
					envs = append(envs, argv[0])
				}
				argv = argv[1:]
			}
			continue
		case wrappers[b] != 0 || b == "exec" || b == "nohup" || b == "time":
			n := wrappers[b]
			argv = argv[1:]
			for len(argv) > 0 && argv[0].known && strings.HasPrefix(argv[0].s, "-") {
				if argv[0].s == "--" {
					argv = argv[1:]
					break
				}
				if wrapperValueOpts[b][argv[0].s] && len(argv) > 1 {
					argv = argv[1:]
				}
				argv = argv[1:]
			}
			if n > 0 && len(argv) >= n {
				argv = argv[n:]
			}
			continue
		case runners[b] && len(argv) > 1 && argv[1].s == "run":
			argv = argv[2:]
			for len(argv) > 0 && argv[0].known && strings.HasPrefix(argv[0].s, "-") {
				// conda run -n env / --name env take a value
				if argv[0].s == "-n" || argv[0].s == "--name" || argv[0].s == "-p" || argv[0].s == "--prefix" || argv[0].s == "--with" || argv[0].s == "-e" || argv[0].s == "--env" {
					argv = argv[1:]
				}
				if len(argv) > 0 {
					argv = argv[1:]
				}
			}
			continue
		case strings.HasPrefix(b, "python"):
			// python [-u] -m mlflow|gunicorn|uvicorn ...
			i := 1
			for i < len(argv) && argv[i].known && strings.HasPrefix(argv[i].s, "-") && argv[i].s != "-m" {
				i++
			}
			if i+1 < len(argv) && argv[i].s == "-m" {
				mod := argv[i+1]
				rest := append([]val{mod}, argv[i+2:]...)
				rest[0].s = strings.TrimSuffix(mod.s, ".__main__")
				argv = rest
				continue
			}
			return invocation{}
		}
		break
	}
	if len(argv) == 0 || !argv[0].known {
		return invocation{}
	}
	b := base(argv[0].s)
	switch b {
	case "oauth2-proxy":
		return invocation{kind: "guard", sub: "oauth2-proxy", args: argv[1:], at: argv[0], envs: envs}
	case "mlflow-guard":
		rest := argv[1:]
		for len(rest) > 0 && rest[0].known && strings.HasPrefix(rest[0].s, "-") {
			rest = rest[1:]
		}
		if len(rest) > 0 && rest[0].known && rest[0].s == "serve" {
			return invocation{kind: "guard", args: rest[1:], at: argv[0]}
		}
	case "mlflow":
		rest := argv[1:]
		// group options before the subcommand
		for len(rest) > 0 && rest[0].known && strings.HasPrefix(rest[0].s, "-") {
			if rest[0].s == "--env-file" && len(rest) > 1 {
				rest = rest[1:]
			}
			rest = rest[1:]
		}
		if len(rest) == 0 || !rest[0].known {
			return invocation{}
		}
		switch rest[0].s {
		case "server", "ui":
			return invocation{kind: "server", args: rest[1:], at: argv[0], envs: envs}
		case "models", "deployments":
			if len(rest) > 1 {
				return invocation{kind: "models", args: rest[2:], at: argv[0], envs: envs, sub: rest[1].s}
			}
		}
	case "gunicorn", "uvicorn", "hypercorn":
		for _, a := range argv[1:] {
			if a.known && strings.HasPrefix(a.s, "mlflow.server") {
				k := b
				if k == "hypercorn" {
					k = "uvicorn"
				}
				return invocation{kind: k, args: argv[1:], at: argv[0], envs: envs}
			}
		}
	}
	return invocation{cmd: argv}
}

// parseServerArgs fills opts from `mlflow server` arguments.
func parseServerArgs(args []val, opts map[string]val) {
	for i := 0; i < len(args); i++ {
		a := args[i]
		if !a.known || !strings.HasPrefix(a.s, "-") {
			continue
		}
		name, value, hasEq := strings.Cut(a.s, "=")
		canon, ok := serverFlags[name]
		if !ok {
			continue
		}
		if boolFlags[canon] {
			v := a
			v.s = "true"
			if canon == "no-serve-artifacts" {
				canon = "serve-artifacts"
				v.s = "false"
			}
			opts[canon] = v
			continue
		}
		if hasEq {
			v := a
			v.s = value
			opts[canon] = v
			continue
		}
		if i+1 < len(args) {
			v := args[i+1]
			v.line, v.col = a.line, a.col // point at the flag
			opts[canon] = v
			i++
		}
	}
}

// parseASGIArgs fills opts from gunicorn or uvicorn arguments: bind address,
// port, worker count, and whether the app is MLflow's auth app.
func parseASGIArgs(kind string, args []val, opts map[string]val) (auth bool) {
	for i := 0; i < len(args); i++ {
		a := args[i]
		if !a.known {
			continue
		}
		if strings.HasPrefix(a.s, "mlflow.server") {
			if strings.Contains(a.s, "mlflow.server.auth") {
				auth = true
			}
			continue
		}
		name, value, hasEq := strings.Cut(a.s, "=")
		next := func() (val, bool) {
			if hasEq {
				v := a
				v.s = value
				return v, true
			}
			if i+1 < len(args) {
				i++
				v := args[i]
				v.line, v.col = a.line, a.col
				return v, true
			}
			return val{}, false
		}
		switch {
		case kind == "gunicorn" && (name == "-b" || name == "--bind"):
			if v, ok := next(); ok {
				setBind(v, opts)
			}
		case kind == "gunicorn" && strings.HasPrefix(a.s, "-b") && len(a.s) > 2:
			v := a
			v.s = a.s[2:]
			setBind(v, opts)
		case name == "-w" || name == "--workers":
			if v, ok := next(); ok {
				opts["workers"] = v
			}
		case kind == "uvicorn" && name == "--host":
			if v, ok := next(); ok {
				opts["host"] = v
			}
		case kind == "uvicorn" && name == "--port":
			if v, ok := next(); ok {
				opts["port"] = v
			}
		case kind == "uvicorn" && (name == "--bind" || name == "-b"): // hypercorn
			if v, ok := next(); ok {
				setBind(v, opts)
			}
		}
	}
	return auth
}

// setBind splits a gunicorn bind "host:port" (or unix:path).
func setBind(v val, opts map[string]val) {
	if strings.HasPrefix(v.s, "unix:") || strings.HasPrefix(v.s, "fd://") {
		h := v
		h.s = "127.0.0.1"
		opts["host"] = h
		return
	}
	i := strings.LastIndex(v.s, ":")
	h, p := v, v
	if i >= 0 && !strings.HasSuffix(v.s, "]") {
		h.s, p.s = v.s[:i], v.s[i+1:]
		opts["port"] = p
	} else {
		h.s = v.s
	}
	if h.s == "" {
		h.s = "0.0.0.0"
	}
	opts["host"] = h
}

// workersFromOpts reads a worker count out of --gunicorn-opts/--uvicorn-opts.
func workersFromOpts(s string) string {
	fs := strings.Fields(s)
	for i, f := range fs {
		if (f == "-w" || f == "--workers") && i+1 < len(fs) {
			return fs[i+1]
		}
		if v, ok := strings.CutPrefix(f, "--workers="); ok {
			return v
		}
		if strings.HasPrefix(f, "-w") && len(f) > 2 {
			return f[2:]
		}
	}
	return ""
}
