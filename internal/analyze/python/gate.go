package python

import (
	"bytes"
	"encoding/binary"

	"golang.org/x/text/unicode/norm"
)

// The gate: a file is analysed only when its bytes mention MLflow or one of
// the sinks (triggers), or a pickler together with a load/dump verb. It
// runs on every Python file of the tree, so it is one pass over the bytes:
// a bit filter on the first three bytes of each pattern rejects almost every
// position, and only candidates are compared.

// triggers: any one of them opens the file to analysis.
var triggers = []string{"mlflow", "MlflowClient", "MLFLOW_", "presigned", "signed_url", "_sas", "download_artifacts",
	"log_artifact", "ACL", "models:/", "allow_pickle", "read_pickle"}

// picklers and their verbs: pickle-family rules need a module name and a
// load/dump/save call name (possibly aliased, but spelled somewhere).
var (
	picklers    = []string{"pickle", "joblib", "dill", "torch"}
	pickleVerbs = []string{"load", "dump", "save", "Unpickler"}
)

const (
	gateTrigger = 1 << iota
	gatePickler
	gateVerb
)

type gatePattern struct {
	p    []byte
	kind int
}

// gateMatcher finds the gate's patterns in one pass.
type gateMatcher struct {
	filter [1 << 10]uint64 // 2^16 bits, indexed by a hash of three bytes
	byKey  map[uint32][]gatePattern
}

func key3(b []byte) uint32 { return uint32(b[0]) | uint32(b[1])<<8 | uint32(b[2])<<16 }

func hash3(k uint32) uint32 { return (k * 0x9E3779B1) >> 16 }

var gate = func() *gateMatcher {
	g := &gateMatcher{byKey: map[uint32][]gatePattern{}}
	add := func(kind int, ps []string) {
		for _, p := range ps {
			k := key3([]byte(p))
			h := hash3(k)
			g.filter[h>>6] |= 1 << (h & 63)
			g.byKey[k] = append(g.byKey[k], gatePattern{[]byte(p), kind})
		}
	}
	add(gateTrigger, triggers)
	add(gatePickler, picklers)
	add(gateVerb, pickleVerbs)
	return g
}()

// mayMatch is the gate. A file with non-ASCII bytes that fails it is tried
// again NFKC-normalised: Python reads ｐｉｃｋｌｅ.ｌｏａｄ as pickle.load.
func mayMatch(b []byte) bool {
	if mayMatchBytes(b) {
		return true
	}
	if !hasNonASCII(b) || norm.NFKC.IsNormal(b) {
		return false
	}
	return mayMatchBytes(norm.NFKC.Bytes(b))
}

// hasNonASCII checks eight bytes at a time: it runs on every file the gate
// rejects.
func hasNonASCII(b []byte) bool {
	i := 0
	for ; i+8 <= len(b); i += 8 {
		if binary.LittleEndian.Uint64(b[i:])&0x8080808080808080 != 0 {
			return true
		}
	}
	for ; i < len(b); i++ {
		if b[i] >= 0x80 {
			return true
		}
	}
	return false
}

func mayMatchBytes(b []byte) bool {
	g := gate
	seen := 0
	for i := 0; i+2 < len(b); i++ {
		k := uint32(b[i]) | uint32(b[i+1])<<8 | uint32(b[i+2])<<16
		h := (k * 0x9E3779B1) >> 16
		if g.filter[h>>6]&(1<<(h&63)) == 0 {
			continue
		}
		for _, p := range g.byKey[k] {
			if seen&p.kind == 0 && bytes.HasPrefix(b[i:], p.p) {
				seen |= p.kind
			}
		}
		if seen&gateTrigger != 0 || seen&(gatePickler|gateVerb) == gatePickler|gateVerb {
			return true
		}
	}
	return false
}
