package deploy

import (
	"context"
	"path"
	"sort"
	"strings"
)

// maxScriptBytes: an entrypoint script longer than this is not kept for
// following (it is still analysed on its own).
const maxScriptBytes = 256 << 10

// maxCallsFile bounds the script calls one file records.
const maxCallsFile = 200

// scriptCall records a container command that may run a script of the
// tree; Finish follows it with the command's arguments as "$@".
func (j *judge) scriptCall(argv []val, e env, tmpl *server) {
	if tmpl == nil || !tmpl.inContainer || len(argv) == 0 || !argv[0].known || len(j.f.calls) >= maxCallsFile {
		return
	}
	name := base(argv[0].s)
	if name == "" || name == "." || name == "/" {
		return
	}
	j.f.calls = append(j.f.calls, scriptCall{name: name, from: j.path, args: append([]val{}, argv[1:]...), env: e, tmpl: tmpl})
}

// link runs what one file cannot: a compose service's build: Dockerfile
// under the service's command/entrypoint overrides, and entrypoint scripts
// with their arguments. It returns the servers to judge: the new ones, and
// the old ones less those a link replaced (an image's standalone start once
// a compose service says how it runs; a script's host-level start once a
// container is seen to run it).
func link(ctx context.Context, j *judge, servers []*server, images []*imageDef, links []buildLink, calls []scriptCall, scripts map[string]string) []*server {
	byPath := map[string]*imageDef{}
	for _, im := range images {
		byPath[im.path] = im
	}
	linked := map[string]bool{}
	for _, l := range links {
		im := byPath[l.dockerfile]
		if im == nil || ctx.Err() != nil {
			continue
		}
		linked[im.path] = true
		j.path = im.path
		e := j.cloneEnv(im.env, 0)
		for k, v := range l.env {
			e[k] = v // compose environment: over the image's ENV
		}
		t := *l.tmpl
		t.image = im.path
		switch {
		case l.epSet:
			// compose's entrypoint replaces the image's and clears its CMD:
			// the compose file was judged as it stands
		case l.cmdSet && im.ep.set && im.ep.exec != nil:
			argv := append(withPath(im.ep.exec, im.path), l.command...)
			(&shellCtx{j: j, vars: e, tmpl: &t}).command(argv, e)
		case l.cmdSet && im.ep.set:
			j.dockerShell(im.ep, e, &t) // a shell-form ENTRYPOINT ignores CMD
		case l.cmdSet:
			// compose's command replaces the image's CMD: judged as it stands
		default:
			j.dockerStart(im.ep, im.cmd, e, &t)
		}
	}
	followed := map[string]bool{}
	calls = append(calls, j.f.calls...)
	j.f.calls = nil
	for round := 0; round < 3 && len(calls) > 0 && ctx.Err() == nil; round++ {
		for _, c := range calls {
			p := pickScript(c, scripts)
			if p == "" {
				continue
			}
			followed[p] = true
			t := *c.tmpl
			t.script = p
			j.path = p
			sc := &shellCtx{j: j, vars: j.cloneEnv(c.env, 1), line0: 1, col0: 1, tmpl: &t, args: c.args, hasArgs: true}
			// a parse error was reported when the script was read on its own
			_ = sc.run(scripts[p])
		}
		calls = j.f.calls
		j.f.calls = nil
	}
	out := make([]*server, 0, len(servers)+len(j.f.servers))
	for _, s := range append(servers, j.f.servers...) {
		if s.origin == "docker" && linked[s.image] {
			continue
		}
		if !s.inContainer && s.script == "" && followed[s.path] {
			continue
		}
		out = append(out, s)
	}
	return out
}

func withPath(vs []val, p string) []val {
	out := append([]val{}, vs...)
	for i := range out {
		out[i].path = p
	}
	return out
}

// pickScript finds the shell file a call runs: the same base name, nearest
// to the calling file (a Dockerfile's COPY source sits beside it).
func pickScript(c scriptCall, scripts map[string]string) string {
	var cands []string
	for p := range scripts {
		if path.Base(p) == c.name {
			cands = append(cands, p)
		}
	}
	if len(cands) == 0 {
		return ""
	}
	sort.Strings(cands)
	best, bd := "", -1
	for _, p := range cands {
		d := sharedDepth(p, c.from)
		if strings.HasPrefix(path.Dir(p), path.Dir(c.from)) || path.Dir(c.from) == "." {
			d += 100 // below the calling file's folder: its build context
		}
		if d > bd {
			best, bd = p, d
		}
	}
	return best
}
