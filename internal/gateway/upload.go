package gateway

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/mlflow-guard/mlflow-guard/internal/analyze"
	modelscan "github.com/mlflow-guard/mlflow-guard/internal/analyze/model"
	"github.com/mlflow-guard/mlflow-guard/internal/finding"
	"github.com/mlflow-guard/mlflow-guard/internal/policy"
	"github.com/mlflow-guard/mlflow-guard/internal/store"
)

// Upload scanning (MLG106-MLG111 for model files, MLG204 for secrets in
// text, MLG306 for type and size). An artifact PUT streams to the upstream
// while the gateway copies it to a spool file; the last
// hold_back bytes stay with the gateway. At the end of the body the
// gateway judges the spooled file (the model analyzer needs random
// access: a zip's directory is at its end). The spool is sparse: of a zip
// with large stored tensor storages only what the analyzer may read is
// written (modelscan.Keeper), and a read of any skipped byte fails the
// upload as MLG111 (modelscan.AnalyzeSparse). A pass releases the held
// bytes; a refusal fails the upstream request before its body is
// complete, and MLflow's artifact stores publish a file only after its
// body ended (LocalArtifactRepository stages to a hidden temp file and
// renames; the other stores write a temp file first), so nothing is
// stored. The end-to-end test checks the upstream for every refusal.

// errUploadRefused fails the upstream request when the verdict refuses.
var errUploadRefused = errors.New("upload refused by the gateway's upload scan")

// uploadScan is the verdict of one upload, read by proxyError.
type uploadScan struct {
	denial *Denial
}

func isArtifactPut(rt *compiled) bool {
	return rt != nil && rt.Method == http.MethodPut && apiPattern(rt.Pattern) == "/api/2.0/mlflow-artifacts/artifacts/<path:artifact_path>"
}

// isBodyUpload is the UI's upload-artifact (a buffered body of at most
// 10 MB, MLflow's cap): judged whole before it is forwarded.
func isBodyUpload(rt *compiled) bool {
	return rt != nil && rt.Method == http.MethodPost && apiPattern(rt.Pattern) == "/api/2.0/mlflow/upload-artifact"
}

func isMultipart(rt *compiled) bool {
	if rt == nil || rt.Method != http.MethodPost {
		return false
	}
	p := apiPattern(rt.Pattern)
	return strings.HasPrefix(p, "/api/2.0/mlflow-artifacts/mpu/create/") || strings.HasPrefix(p, "/api/2.0/mlflow-artifacts/mpu/complete/")
}

// dataGates runs the registration gate and sets up upload scanning.
func (g *Gateway) dataGates(w http.ResponseWriter, r *http.Request, st *reqState, msg *Message) *Denial {
	if g.policy == nil { // --no-policy: no gate, so no verdict tags and nothing approvable
		return nil
	}
	switch {
	case isCreateVersion(st.route):
		return g.gateRegistration(r.Context(), st, msg)
	case isMultipart(st.route):
		u := g.policy.Uploads()
		if u.Mode != policy.GateOff && u.Multipart == policy.GateDeny {
			return gateDenial("MLG306", "multipart-unscanned", "multipart uploads send their parts straight to the object store, where the gateway cannot scan them; upload through the artifact proxy (unset MLFLOW_ENABLE_PROXY_MULTIPART_UPLOAD)")
		}
	case isArtifactPut(st.route):
		if g.policy.Uploads().Mode == policy.GateOff {
			return nil
		}
		b, d := g.newScanBody(r, st, r.Body, path.Base(r.URL.Path), r.ContentLength)
		if d == nil {
			r.Body = b
		}
		return d
	case isBodyUpload(st.route):
		if g.policy.Uploads().Mode == policy.GateOff {
			return nil
		}
		name := path.Base(r.URL.Query().Get("path"))
		b, d := g.newScanBody(r, st, io.NopCloser(bytes.NewReader(st.body)), name, int64(len(st.body)))
		if d != nil {
			return d
		}
		_, err := io.Copy(io.Discard, b) // the whole verdict, before anything is forwarded
		b.Close()
		if st.upload.denial != nil {
			return st.upload.denial
		}
		if err != nil {
			return denyUnavailable("scan-unavailable", "the gateway could not scan the upload; refused")
		}
	}
	return nil
}

func (g *Gateway) newScanBody(r *http.Request, st *reqState, src io.ReadCloser, name string, length int64) (*scanBody, *Denial) {
	u := g.policy.Uploads()
	if length > u.MaxBytes && u.Mode == policy.GateDeny {
		return nil, gateDenial("MLG306", "upload-too-large", fmt.Sprintf("artifact of %d bytes is over the upload limit of %d bytes", length, u.MaxBytes))
	}
	dir, err := os.MkdirTemp(u.SpoolDir, "mlflow-guard-upload-")
	if err != nil {
		g.log.Error("upload scan: spool", "request_id", st.id, "err", err)
		return nil, denyUnavailable("scan-unavailable", "the gateway could not spool the upload to scan it; refused")
	}
	if name == "" || name == "." || name == ".." || name == "/" {
		name = "artifact"
	}
	f, err := os.OpenFile(dir+string(os.PathSeparator)+name, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		os.RemoveAll(dir)
		g.log.Error("upload scan: spool", "request_id", st.id, "err", err)
		return nil, denyUnavailable("scan-unavailable", "the gateway could not spool the upload to scan it; refused")
	}
	st.upload = &uploadScan{}
	b := &scanBody{g: g, st: st, cfg: u, src: src, dir: dir, name: name, spool: f, keep: modelscan.NewKeeper(f, name, keepWhole),
		hold: u.HoldBack, ctx: r.Context(), route: r.Method + " " + st.route.Pattern}
	b.startSpooler()
	return b, nil
}

// scanBody is the request body the proxy forwards: the client's bytes,
// handed to a spooler goroutine (so the spool write runs beside the
// forward, on another core) and forwarded, with the last hold bytes held
// back until the verdict. Bytes live in a bounded pool of blocks: memory
// per upload is at most spoolBlocks blocks, whatever the file's size.
type scanBody struct {
	g     *Gateway
	st    *reqState
	cfg   policy.UploadsConfig
	ctx   context.Context
	route string
	src   io.ReadCloser
	dir   string
	name  string
	spool *os.File
	keep  *modelscan.Keeper // picks the spooled bytes; written by the spooler only
	n     int64
	head  []byte
	hold  int
	eof   bool
	done  bool // verdict given and passed: the rest may go
	err   error

	free      chan *block   // blocks ready for reuse
	allocated int           // blocks made so far (at most cap(free))
	cur       *block        // block being filled
	filled    int           // bytes of cur in use
	q         []segment     // read, not yet forwarded
	qBytes    int           // bytes in q
	segs      chan segment  // to the spooler
	quit      chan struct{} // Close: the spooler stops
	spoolDone chan struct{}
	spoolErr  error // set by the spooler before spoolDone closes
	closeOnce sync.Once
}

const spoolBlock = 1 << 20

// block is one buffer of the pool; refs counts its holders (the reader
// while filling it, and each segment in q or on its way to the spooler).
type block struct {
	data []byte
	refs atomic.Int32
}

type segment struct {
	b    *block
	a, z int
}

func (b *scanBody) unref(bl *block) {
	if bl.refs.Add(-1) == 0 {
		b.free <- bl // never blocks: the channel holds every block made
	}
}

func (b *scanBody) startSpooler() {
	n := b.hold/spoolBlock + 8
	b.free = make(chan *block, n)
	b.segs = make(chan segment, n)
	b.quit = make(chan struct{})
	b.spoolDone = make(chan struct{})
	go func() {
		defer close(b.spoolDone)
		for {
			select {
			case sg, ok := <-b.segs:
				if !ok {
					if b.spoolErr == nil {
						b.spoolErr = b.keep.Close() // the bytes it held back
					}
					return
				}
				if b.spoolErr == nil {
					_, b.spoolErr = b.keep.Write(sg.b.data[sg.a:sg.z])
				}
				b.unref(sg.b)
			case <-b.quit:
				return
			}
		}
	}()
}

// getBlock takes a free block, makes one while under the cap, or waits
// for the spooler to give one back (nil once the body is closed).
func (b *scanBody) getBlock() *block {
	var bl *block
	select {
	case bl = <-b.free:
	default:
		if b.allocated < cap(b.free) {
			b.allocated++
			bl = &block{data: make([]byte, spoolBlock)}
		} else {
			select {
			case bl = <-b.free:
			case <-b.quit:
				return nil
			}
		}
	}
	bl.refs.Store(1)
	return bl
}

func (b *scanBody) refuse(d *Denial) (int, error) {
	b.st.upload.denial = d
	b.err = errUploadRefused
	return 0, b.err
}

func (b *scanBody) Read(p []byte) (int, error) {
	for {
		if b.err != nil {
			return 0, b.err
		}
		allowed := b.qBytes - b.hold
		if b.done {
			allowed = b.qBytes
		}
		if allowed > 0 {
			sg := &b.q[0]
			n := copy(p[:min(len(p), allowed)], sg.b.data[sg.a:sg.z])
			sg.a += n
			b.qBytes -= n
			if sg.a == sg.z {
				b.unref(sg.b)
				b.q = b.q[1:]
			}
			return n, nil
		}
		if b.done {
			return 0, io.EOF
		}
		if b.eof {
			close(b.segs)
			<-b.spoolDone
			if b.spoolErr == nil && b.keep.Skipped() > 0 {
				b.spoolErr = b.spool.Truncate(b.keep.Size()) // a hole at the end still counts in the size
			}
			if b.spoolErr != nil {
				b.g.log.Error("upload scan: spool write", "request_id", b.st.id, "err", b.spoolErr)
				return b.refuse(denyUnavailable("scan-unavailable", "the gateway could not spool the upload to scan it; refused"))
			}
			if d := b.judge(); d != nil && b.cfg.Mode == policy.GateDeny {
				return b.refuse(d)
			}
			b.done = true
			continue
		}
		if b.cur == nil {
			if b.cur = b.getBlock(); b.cur == nil {
				b.err = errors.New("upload closed")
				return 0, b.err
			}
		}
		end := b.filled
		m, err := b.src.Read(b.cur.data[end:])
		if m > 0 {
			if len(b.head) < analyze.HeadSize {
				b.head = append(b.head, b.cur.data[end:end+min(m, analyze.HeadSize-len(b.head))]...)
			}
			b.n += int64(m)
			if b.n > b.cfg.MaxBytes && b.cfg.Mode == policy.GateDeny {
				return b.refuse(gateDenial("MLG306", "upload-too-large", fmt.Sprintf("artifact is over the upload limit of %d bytes", b.cfg.MaxBytes)))
			}
			sg := segment{b.cur, end, end + m}
			b.cur.refs.Add(2)
			select {
			case b.segs <- sg:
			case <-b.quit:
				b.err = errors.New("upload closed")
				return 0, b.err
			}
			b.q = append(b.q, sg)
			b.qBytes += m
			b.filled += m
			if b.filled == len(b.cur.data) {
				b.unref(b.cur)
				b.cur, b.filled = nil, 0
			}
		}
		if errors.Is(err, io.EOF) {
			b.eof = true
		} else if err != nil {
			b.err = err
			return 0, err
		}
	}
}

func (b *scanBody) Close() error {
	err := b.src.Close()
	b.closeOnce.Do(func() {
		close(b.quit)
		<-b.spoolDone
		b.spool.Close()
		os.RemoveAll(b.dir)
	})
	return err
}

// judge gives the verdict on the complete spooled file; it records the
// verdict in the audit log and returns the denial (nil: pass).
func (b *scanBody) judge() *Denial {
	start := time.Now()
	kind := sniffUpload(b.head)
	var v modelVerdict
	var found []string
	var d *Denial
	if !b.cfg.UploadTypeAllowed(kind) {
		found = append(found, "MLG306 type="+kind)
		d = gateDenial("MLG306", "upload-type", fmt.Sprintf("artifact %q is %s content, which this gateway does not accept (uploads.allowed_types)", truncate(b.name, 100), kind))
	}
	if b.n > b.cfg.MaxBytes {
		found = append(found, fmt.Sprintf("MLG306 size=%d", b.n))
		d = gateDenial("MLG306", "upload-too-large", fmt.Sprintf("artifact is over the upload limit of %d bytes", b.cfg.MaxBytes))
	}
	if kind == "text" && b.keep.Skipped() > 0 {
		// keepWhole vetoes this; a spool with holes cannot be searched
		found = append(found, "MLG204 unchecked")
		d = denyUnavailable("scan-unavailable", "the gateway did not keep all of a text upload to search it; refused")
	} else if kind == "text" {
		kinds, err := b.g.textSecrets(b.spool)
		switch {
		case err != nil:
			found = append(found, "MLG204 unreadable")
			d = denyUnavailable("scan-unavailable", "the gateway could not read the spooled upload; refused")
		case len(kinds) > 0:
			found = append(found, "MLG204 detectors="+strings.Join(kinds, ","))
			d = gateDenial("MLG204", "secret-in-artifact", fmt.Sprintf("text artifact %q contains %s; it was not stored", truncate(b.name, 100), strings.Join(kinds, ", ")))
		}
	}
	an := newModelAnalyzer(b.g.log)
	var res analyze.Result
	var relevant bool
	var err error
	if b.keep.Skipped() > 0 {
		// A zip by its first local header: relevant by content.
		res, relevant = an.AnalyzeSparse(b.ctx, b.name, b.spool, b.keep.Size(), b.keep.Kept()), true
	} else {
		res, relevant, err = judgeFile(b.ctx, an, b.dir, b.name)
	}
	if err != nil {
		res.Errors = append(res.Errors, finding.Error{Path: b.name, Kind: finding.ErrRead, Message: err.Error()})
	}
	v.Findings, v.Errors = res.Findings, res.Errors
	if relevant || err != nil {
		if rule := b.g.dg.Blocking(v); rule != "" {
			d = gateDenial(rule, "model-gate", fmt.Sprintf("model artifact %q failed the model scan: %s; it was not stored", truncate(b.name, 100), b.g.dg.Summary(v, 600)))
		}
		if s := b.g.dg.Summary(v, 600); s != "none" {
			found = append(found, s)
		}
	}
	decision, rule := "pass", ""
	if d != nil {
		decision, rule = "deny", d.Rule
		if b.cfg.Mode != policy.GateDeny {
			decision = "log-only"
		}
	}
	actor := ""
	if b.st.identity != nil {
		actor = b.st.identity.User.Name
	}
	detail := fmt.Sprintf("bytes=%d spooled=%d type=%s scanned_in=%s", b.n, b.n-b.keep.Skipped(), kind, time.Since(start).Round(time.Millisecond))
	if len(found) > 0 {
		detail += " findings: " + strings.Join(found, "; ")
	}
	if err := b.g.store.Audit(b.ctx, store.Event{Actor: actor, Action: "upload-scan", Route: b.route, Resource: "artifact:" + truncate(b.name, 200),
		Decision: decision, Rule: rule, RequestID: b.st.id, Detail: truncate(detail, 1000)}); err != nil {
		b.g.log.Error("audit write failed for an upload scan", "request_id", b.st.id, "err", err)
		if d == nil && b.cfg.Mode == policy.GateDeny {
			return denyUnavailable("audit-unavailable", "the gateway could not record the upload's verdict; not stored")
		}
	}
	return d
}

// uploadMagics sniff the leading bytes; the first match wins. Archives
// that carry models (zip: torch, Keras, skops, npz) count as model.
var uploadMagics = []struct {
	kind  string
	magic string
	at    int
}{
	{"executable", "\x7fELF", 0}, {"executable", "MZ", 0}, {"executable", "\xfe\xed\xfa\xce", 0},
	{"executable", "\xfe\xed\xfa\xcf", 0}, {"executable", "\xce\xfa\xed\xfe", 0}, {"executable", "\xcf\xfa\xed\xfe", 0},
	{"executable", "#!", 0},
	{"model", "PK\x03\x04", 0}, {"model", "PK\x05\x06", 0}, {"model", "\x93NUMPY", 0}, {"model", "\x89HDF\r\n\x1a\n", 0},
	{"image", "\x89PNG\r\n\x1a\n", 0}, {"image", "\xff\xd8\xff", 0}, {"image", "GIF87a", 0}, {"image", "GIF89a", 0}, {"image", "WEBP", 8},
	{"data", "PAR1", 0}, {"data", "ARROW1", 0}, {"data", "Obj\x01", 0}, {"data", "ORC", 0}, {"data", "SQLite format 3\x00", 0},
	{"archive", "\x1f\x8b", 0}, {"archive", "BZh", 0}, {"archive", "\xfd7zXZ\x00", 0}, {"archive", "7z\xbc\xaf\x27\x1c", 0}, {"archive", "ustar", 257},
	{"archive", "\x28\xb5\x2f\xfd", 0},
}

// keepWhole is the spool's veto on thinning a file that is no zip: text
// is searched for secrets whole, so all of it is kept.
func keepWhole(head []byte) bool {
	return sniffUpload(head[:min(len(head), analyze.HeadSize)]) == "text"
}

// sniffUpload names the content type of an upload from its first bytes.
func sniffUpload(head []byte) string {
	for _, m := range uploadMagics {
		if len(head) >= m.at+len(m.magic) && string(head[m.at:m.at+len(m.magic)]) == m.magic {
			return m.kind
		}
	}
	if len(head) >= 2 && head[0] == 0x80 && head[1] <= 5 {
		return "model" // a pickle with a PROTO header
	}
	if isText(head) {
		return "text"
	}
	return "other"
}

// isText: valid UTF-8 (a rune cut at the end of the head is fine) and no
// control bytes but whitespace. An empty file is text.
func isText(head []byte) bool {
	for i := 0; i < len(head); {
		c := head[i]
		if c < utf8.RuneSelf {
			if c < 0x20 && c != '\n' && c != '\r' && c != '\t' && c != '\f' || c == 0x7f {
				return false
			}
			i++
			continue
		}
		r, n := utf8.DecodeRune(head[i:])
		if r == utf8.RuneError && n <= 1 {
			return len(head) == analyze.HeadSize && len(head)-i < utf8.UTFMax && utf8.RuneStart(head[i]) && !bytes.ContainsAny(head[i:], "\x00")
		}
		i += n
	}
	return true
}
