package deploy

import (
	"path"
	"regexp"
	"strings"

	"github.com/mlflow-guard/mlflow-guard/internal/rules"
)

// pendingRoot is an MLG410 (image runs as root) whose position is known
// but which waits for what runs the image.
type pendingRoot struct {
	path      string
	line, col int
	msg       string
}

// nonRootBases are well-known base images whose own last USER is not root,
// so an image built FROM them without a USER instruction runs unprivileged.
// Key: repository without registry host or tag; value: the default user.
var nonRootBases = map[string]string{
	"jupyter/base-notebook":        "jovyan",
	"jupyter/minimal-notebook":     "jovyan",
	"jupyter/scipy-notebook":       "jovyan",
	"jupyter/r-notebook":           "jovyan",
	"jupyter/julia-notebook":       "jovyan",
	"jupyter/tensorflow-notebook":  "jovyan",
	"jupyter/pytorch-notebook":     "jovyan",
	"jupyter/datascience-notebook": "jovyan",
	"jupyter/pyspark-notebook":     "jovyan",
	"jupyter/all-spark-notebook":   "jovyan",
}

// nonRootTags are tags that name a non-root variant of an image family.
var nonRootTags = map[string]string{
	"gcr.io/distroless/": "nonroot",
}

// fromRef is the image a FROM instruction names, without --platform.
func fromRef(rest string) string {
	for _, w := range strings.Fields(rest) {
		if strings.HasPrefix(w, "--") {
			continue
		}
		return strings.ToLower(w)
	}
	return ""
}

// nonRootBase: the image runs as a non-root user by default.
func nonRootBase(ref string) bool {
	if ref == "" || strings.Contains(ref, "$") {
		return false
	}
	name, _, _ := strings.Cut(ref, "@")
	tag := ""
	if i := strings.LastIndexByte(name, ':'); i > strings.LastIndexByte(name, '/') {
		name, tag = name[:i], name[i+1:]
	}
	for prefix, t := range nonRootTags {
		if strings.HasPrefix(name, prefix) && (tag == t || strings.HasSuffix(tag, "-"+t)) {
			return true
		}
	}
	// Docker Hub and quay.io hold the same Jupyter stacks
	for _, host := range []string{"docker.io/", "quay.io/"} {
		name = strings.TrimPrefix(name, host)
	}
	_, ok := nonRootBases[name]
	return ok
}

// dockerArgv is the command line an image's ENTRYPOINT and CMD give, as
// words; a shell form is one "sh -c" string.
func dockerArgv(ep, cmd dfCommand) []val {
	var out []val
	for _, dc := range []dfCommand{ep, cmd} {
		if !dc.set {
			continue
		}
		if dc.exec != nil {
			out = append(out, dc.exec...)
			continue
		}
		out = append(out, val{s: "/bin/sh", known: true}, val{s: "-c", known: true}, val{s: dc.shell, known: true})
		if dc.shell != "" && ep.set && ep.exec == nil {
			break // a shell-form ENTRYPOINT ignores CMD
		}
	}
	return out
}

var pythonExe = regexp.MustCompile(`^python[0-9.]*$`)

// servingNames: a Python script or module whose name holds one of these
// may serve or load a model, so its image is an MLflow container.
var servingNames = []string{"serv", "app", "api", "predict", "infer", "scor", "model", "main", "wsgi", "asgi", "deploy", "gateway", "web", "dash", "stream", "flask", "fastapi", "uvicorn", "gunicorn"}

// shellNeutral are shell steps that start nothing.
var shellNeutral = map[string]bool{"exit": true, "echo": true, "cd": true, "sleep": true, "true": true, "set": true, ":": true}

// clientRun: the command runs only Python scripts whose names say they
// neither serve nor load a model (a tracking client, an indexer), so the
// image is not an MLflow server or model container. Anything else, or
// anything not known, is not a client run.
func clientRun(argv []val) bool {
	if len(argv) == 0 {
		return false
	}
	words := make([]string, len(argv))
	for i, v := range argv {
		if !v.known {
			return false
		}
		words[i] = v.s
	}
	return clientWords(words, 0)
}

func clientWords(words []string, depth int) bool {
	if len(words) == 0 || depth > 2 {
		return false
	}
	switch path.Base(words[0]) {
	case "sh", "bash", "dash":
		if len(words) == 3 && words[1] == "-c" {
			return clientScript(words[2], depth+1)
		}
		return false
	}
	return clientScript(strings.Join(words, " "), depth+1)
}

// clientScript judges a shell text: every step neutral or a client
// Python run, and at least one such run.
func clientScript(s string, depth int) bool {
	s = strings.NewReplacer("&&", ";", "||", ";", "\n", ";").Replace(s)
	if strings.ContainsAny(s, "|&`$(") {
		return false
	}
	runs := 0
	for _, step := range strings.Split(s, ";") {
		fs := strings.Fields(strings.Trim(strings.TrimSpace(step), `"'`))
		if len(fs) == 0 || shellNeutral[fs[0]] {
			continue
		}
		if path.Base(fs[0]) == "sh" || path.Base(fs[0]) == "bash" {
			if !clientWords(fs, depth) {
				return false
			}
			runs++
			continue
		}
		if !pythonExe.MatchString(path.Base(fs[0])) || !clientPython(fs[1:]) {
			return false
		}
		runs++
	}
	return runs > 0
}

// clientPython: python's arguments run a script or module whose name is
// not one of servingNames.
func clientPython(args []string) bool {
	for i := 0; i < len(args); i++ {
		a := strings.Trim(args[i], `"'`)
		switch {
		case a == "-m" && i+1 < len(args):
			return !servingName(args[i+1])
		case a == "-c" || a == "-":
			return false
		case strings.HasPrefix(a, "-"):
			continue
		default:
			return strings.HasSuffix(a, ".py") && !servingName(path.Base(a))
		}
	}
	return false
}

func servingName(n string) bool {
	n = strings.ToLower(n)
	for _, w := range servingNames {
		if strings.Contains(n, w) {
			return true
		}
	}
	return false
}

// judgeRootImages reports the MLG410 of images with no command of their
// own: unless every compose service that builds one runs only a client
// script, the image may serve, so it is reported.
func judgeRootImages(j *judge, images []*imageDef, links []buildLink) {
	for _, im := range images {
		if im.root == nil {
			continue
		}
		n, client := 0, 0
		for _, l := range links {
			if l.dockerfile != im.path {
				continue
			}
			n++
			var argv []val
			switch {
			case l.epSet:
				argv = append(append(argv, l.entrypoint...), l.command...)
			case l.cmdSet:
				argv = l.command
			}
			if clientRun(argv) {
				client++
			}
		}
		if n > 0 && client == n {
			continue
		}
		j.path = im.path
		j.addIn(rules.CtxDockerfile, "MLG410", im.root.path, im.root.line, im.root.col, "%s", im.root.msg)
	}
}
