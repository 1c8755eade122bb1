package python

import (
	"context"
	"fmt"
	"sync"

	sitter "github.com/tree-sitter/go-tree-sitter"
	tspython "github.com/tree-sitter/tree-sitter-python/bindings/go"
)

// node is a Go-side copy of one tree-sitter node. The analysis walks these
// instead of the C tree: every accessor on the C tree is a cgo call, so one
// conversion pass followed by pure-Go walking is several times faster.
type node struct {
	kind  string // grammar kind ("call", "identifier", "(" ...)
	fid   uint16 // field id in the parent (see fieldNames), 0 if none
	named bool
	bad   bool // ERROR or MISSING
	start uint32
	end   uint32
	kids  []*node
}

// fieldNames maps the grammar's field ids to names (id 0: no field). It is
// fixed by the compiled-in grammar, so a table built once at start; nodes
// keep the 2-byte id instead of a 16-byte string.
var fieldNames = func() []string {
	lang := sitter.NewLanguage(tspython.Language())
	fc := lang.FieldCount()
	out := make([]string, fc+1)
	for i := uint32(1); i <= fc; i++ {
		out[i] = lang.FieldNameForId(uint16(i))
	}
	return out
}()

// fieldName is n's field name in its parent, "" if none.
func (n *node) fieldName() string { return fieldNames[n.fid] }

// grammar holds the Python language and the id->name tables, built once.
type grammar struct {
	lang  *sitter.Language
	kinds []string
	named []bool
}

// maxIdle bounds the parsers kept between files; extra ones are closed.
const maxIdle = 64

// parserPool holds one analyzer's idle parsers. A channel, not a sync.Pool:
// a pool drops items at GC without closing them, and each parser holds C
// memory. What is left when the analyzer is collected is closed then.
type parserPool chan *sitter.Parser

func newParserPool() parserPool { return make(parserPool, maxIdle) }

func (pp parserPool) get(g *grammar) *sitter.Parser {
	select {
	case p := <-pp:
		return p
	default:
	}
	p := sitter.NewParser()
	if err := p.SetLanguage(g.lang); err != nil {
		p.Close()
		return nil
	}
	return p
}

func (pp parserPool) put(p *sitter.Parser) {
	select {
	case pp <- p:
	default:
		p.Close()
	}
}

// drain closes every idle parser.
func (pp parserPool) drain() {
	for {
		select {
		case p := <-pp:
			p.Close()
		default:
			return
		}
	}
}

var loadGrammar = sync.OnceValue(func() *grammar {
	useLibcAllocator()
	g := &grammar{lang: sitter.NewLanguage(tspython.Language())}
	n := g.lang.NodeKindCount()
	g.kinds = make([]string, n)
	g.named = make([]bool, n)
	for i := uint32(0); i < n; i++ {
		g.kinds[i] = g.lang.NodeKindForId(uint16(i))
		g.named[i] = g.lang.NodeKindIsNamed(uint16(i))
	}
	return g
})

// chunk bounds how much text one read callback hands to the C parser: the
// binding copies every chunk, so an unbounded tail would be copied again on
// each re-read.
const chunk = 64 << 10

// errParseMemory: tree-sitter needed more than maxParseBytes for the file.
var errParseMemory = fmt.Errorf("parsing needs more than %d MiB; the file was not analysed", maxParseBytes>>20)

// parse parses src and converts the tree. It returns nil root only when the
// parser could not run (cancelled, no parser, or over a limit).
func (g *grammar) parse(ctx context.Context, pp parserPool, src []byte) (*node, convLimits, error) {
	p := pp.get(g)
	if p == nil {
		return nil, convLimits{}, errNoParser
	}
	defer pp.put(p)
	// The progress callback runs inside the parse's C call, on its thread,
	// so the growth of that thread's allocation counter is this parse's.
	var base, held int64
	first, over := true, false
	opts := &sitter.ParseOptions{ProgressCallback: func(sitter.ParseState) bool {
		if first {
			base, first = parseBytes(), false
		} else if d := parseBytes() - base; d > held {
			held = d
			if d > maxParseBytes {
				over = true
				return true
			}
		}
		return ctx.Err() != nil
	}}
	tree := p.ParseWithOptions(func(i int, _ sitter.Point) []byte {
		if i >= len(src) {
			return nil
		}
		e := min(i+chunk, len(src))
		return src[i:e]
	}, nil, opts)
	if tree == nil {
		p.Reset()
		if held > trimAbove {
			trimMalloc()
		}
		if over {
			return nil, convLimits{}, errParseMemory
		}
		if err := ctx.Err(); err != nil {
			return nil, convLimits{}, err
		}
		return nil, convLimits{}, errNoParser
	}
	return g.convert(tree, held)
}
