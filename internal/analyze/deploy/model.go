package deploy

import (
	"strings"
)

// val is one configuration value and where it was written. known is false
// when the value depends on something the tree does not show ($DB_URI, a
// command substitution, a Helm template): such values are never judged.
type val struct {
	s string
	// raw is the text as written with unresolved parts kept as ${NAME}
	// (set where s is not known), so a URI's visible scheme and host can
	// still be judged
	raw     string
	known   bool
	line    int
	col     int
	path    string
	literal bool // written out at this location, not passed through a variable
}

// env is an environment: variable name -> value.
type env map[string]val

func (e env) clone() env {
	out := make(env, len(e))
	for k, v := range e {
		out[k] = v
	}
	return out
}

// server is the effective configuration of one MLflow server start, built
// from its flags and the environment variables MLflow reads for them.
type server struct {
	path      string
	line, col int
	kind      string // "mlflow server", "gunicorn", "uvicorn"
	// opts holds canonical option names (see flags.go); a flag wins over its
	// environment variable, as in click.
	opts map[string]val
	env  env
	// envFiles are compose env_file paths (relative to the scan root) and
	// configMaps the envFrom names; Finish merges them into env.
	envFiles   []string
	configMaps []string
	// auth is set when the app itself authenticates (basic-auth app name,
	// the auth app factory under gunicorn/uvicorn).
	auth bool
	// inContainer: the bind address is inside a container or pod, so a
	// proxy in the same network or pod can front it.
	inContainer bool
	// names the server is reachable by from a proxy: compose service, k8s
	// container/workload names.
	names []string
	// origin says what started the process: "compose", "k8s", "docker"
	// (an image's CMD/ENTRYPOINT) or "" (a host: shell, systemd, values);
	// exposure is judged per origin (fronts.go).
	origin string
	// project is the compose file or Kubernetes manifest that deploys it.
	project string
	// labels are a pod template's labels (Service selectors match them);
	// svcNames the Services that select the pod.
	labels   map[string]string
	svcNames []string
	// ports are a compose service's ports: entries.
	ports []portMap
	// hostNet: network_mode host / hostNetwork: the bind address is the host's.
	hostNet bool
	// exposedBy names what publishes a pod beyond the cluster (a
	// LoadBalancer or NodePort Service, an Ingress, a hostPort).
	exposedBy []string
	// image is the Dockerfile whose CMD/ENTRYPOINT started it; script the
	// entrypoint script it was followed into.
	image, script string
}

// context copies what the surrounding file knows about the process.
func (s *server) context(t *server) {
	s.inContainer, s.names, s.origin, s.project = t.inContainer, t.names, t.origin, t.project
	s.envFiles, s.configMaps = t.envFiles, t.configMaps
	s.labels, s.ports, s.hostNet, s.exposedBy = t.labels, t.ports, t.hostNet, t.exposedBy
	s.image, s.script = t.image, t.script
}

// opt returns the effective value of a canonical option: flag, else the
// environment variable MLflow reads for it.
func (s *server) opt(name string) (val, bool) {
	if v, ok := s.opts[name]; ok {
		return v, true
	}
	if ev := envFor[name]; ev != "" {
		if v, ok := s.env[ev]; ok {
			return v, true
		}
	}
	return val{}, false
}

// host is the bind address; MLflow's own default is loopback.
func (s *server) host() (string, bool, val) {
	v, ok := s.opt("host")
	if !ok {
		return "127.0.0.1", true, val{}
	}
	return v.s, v.known, v
}

func (s *server) port() string {
	v, ok := s.opt("port")
	if !ok || !v.known {
		if s.kind == "gunicorn" || s.kind == "uvicorn" {
			return "8000"
		}
		return "5000"
	}
	return v.s
}

// isLoopback reports whether a bind or URL host is local to the machine.
func isLoopback(h string) bool {
	h = strings.Trim(strings.ToLower(h), "[]")
	return h == "localhost" || h == "::1" || strings.HasPrefix(h, "127.") || h == "ip6-localhost"
}

// isWildcard reports whether a bind address listens on every interface.
func isWildcard(h string) bool {
	h = strings.Trim(h, "[]")
	return h == "0.0.0.0" || h == "::" || h == "*" || h == "0"
}

func truthy(s string) bool {
	switch strings.ToLower(strings.Trim(strings.TrimSpace(s), `"'`)) {
	case "1", "true", "yes", "on", "y", "t":
		return true
	}
	return false
}
