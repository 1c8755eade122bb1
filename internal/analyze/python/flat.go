package python

/*
#include <stdint.h>
#include <stdbool.h>
#include <stddef.h>

// Declarations from tree-sitter's api.h (v0.25); the definitions are linked
// from github.com/tree-sitter/go-tree-sitter's copy of the library.
typedef struct TSTree TSTree;
typedef struct { uint32_t context[4]; const void *id; const TSTree *tree; } TSNode;
typedef struct { const void *tree; const void *id; uint32_t context[3]; } TSTreeCursor;
TSNode ts_tree_root_node(const TSTree *self);
TSTreeCursor ts_tree_cursor_new(TSNode node);
void ts_tree_cursor_delete(TSTreeCursor *self);
bool ts_tree_cursor_goto_first_child(TSTreeCursor *self);
bool ts_tree_cursor_goto_next_sibling(TSTreeCursor *self);
bool ts_tree_cursor_goto_parent(TSTreeCursor *self);
TSNode ts_tree_cursor_current_node(const TSTreeCursor *self);
uint16_t ts_tree_cursor_current_field_id(const TSTreeCursor *self);
uint16_t ts_node_symbol(TSNode self);
uint32_t ts_node_start_byte(TSNode self);
uint32_t ts_node_end_byte(TSNode self);
bool ts_node_is_missing(TSNode self);
bool ts_node_is_error(TSNode self);
void ts_set_allocator(void *(*new_malloc)(size_t), void *(*new_calloc)(size_t, size_t),
	void *(*new_realloc)(void *, size_t), void (*new_free)(void *));

#include <stdlib.h>
// The allocated size of a block and giving freed pages back are not
// standard C: glibc, macOS and Windows each name them differently. The
// wheels are cross-built for all three (scripts/build-wheels.sh).
#if defined(__APPLE__)
#include <malloc/malloc.h>
#define mlg_usable_size(p) malloc_size(p)
#define mlg_malloc_trim() ((void)0)
#elif defined(_WIN32)
#include <malloc.h>
#define mlg_usable_size(p) _msize(p)
#define mlg_malloc_trim() ((void)0)
#else
#include <malloc.h>
#define mlg_usable_size(p) malloc_usable_size(p)
#define mlg_malloc_trim() malloc_trim(0)
#endif

// mlg_live counts the bytes tree-sitter holds, per thread: a parse runs in
// one C call on one thread, so the growth of this counter during the call is
// what that parse allocated. Frees on other threads (a tree closed later)
// only lower their own thread's counter, which is read as a difference.
static __thread long long mlg_live;

static void *mlg_malloc(size_t n) {
	void *p = malloc(n);
	if (p) mlg_live += (long long)mlg_usable_size(p);
	return p;
}
static void *mlg_calloc(size_t n, size_t m) {
	void *p = calloc(n, m);
	if (p) mlg_live += (long long)mlg_usable_size(p);
	return p;
}
static void *mlg_realloc(void *p, size_t n) {
	long long old = p ? (long long)mlg_usable_size(p) : 0;
	void *q = realloc(p, n);
	if (q) mlg_live += (long long)mlg_usable_size(q) - old;
	return q;
}
static void mlg_free(void *p) {
	if (p) mlg_live -= (long long)mlg_usable_size(p);
	free(p);
}
static long long mlg_live_bytes(void) { return mlg_live; }

// mlg_trim hands freed heap memory back to the system: after a large tree
// is closed, glibc would otherwise keep its pages, and the worker's resident
// memory would be the parse's peak plus the Go copy's.
static void mlg_trim(void) { mlg_malloc_trim(); }

// mlg_use_libc_allocator points tree-sitter at libc's allocator through the
// counting wrappers above. The Go binding installs callbacks that cross from
// C into Go and back into C for every allocation; its default Go functions
// only call libc anyway, so memory allocated before and after the switch is
// freed the same way.
static void mlg_use_libc_allocator(void) { ts_set_allocator(mlg_malloc, mlg_calloc, mlg_realloc, mlg_free); }

typedef struct {
	uint32_t start, end;
	int32_t parent;
	uint16_t sym, field;
	uint32_t flags;
} mlg_rec;

// mlg_flatten writes the tree in pre-order into out (at most cap records)
// in one call, so converting a tree costs one cgo transition instead of
// several per node. It returns the record count, or -1 if cap was too small.
static int mlg_flatten(const void *tree, mlg_rec *out, int cap) {
	TSTreeCursor c = ts_tree_cursor_new(ts_tree_root_node((const TSTree *)tree));
	int n = 0, cur;
#define EMIT(par) do { \
		if (n >= cap) { ts_tree_cursor_delete(&c); return -1; } \
		TSNode x = ts_tree_cursor_current_node(&c); \
		out[n].start = ts_node_start_byte(x); out[n].end = ts_node_end_byte(x); \
		out[n].parent = (par); out[n].sym = ts_node_symbol(x); \
		out[n].field = ts_tree_cursor_current_field_id(&c); \
		out[n].flags = (ts_node_is_error(x) ? 1u : 0u) | (ts_node_is_missing(x) ? 2u : 0u); \
		cur = n++; \
	} while (0)
	EMIT(-1);
	for (;;) {
		if (ts_tree_cursor_goto_first_child(&c)) {
			EMIT(cur);
			continue;
		}
		for (;;) {
			if (ts_tree_cursor_goto_next_sibling(&c)) {
				EMIT(out[cur].parent);
				break;
			}
			if (!ts_tree_cursor_goto_parent(&c)) {
				ts_tree_cursor_delete(&c);
				return n;
			}
			cur = out[cur].parent;
		}
	}
#undef EMIT
}
*/
import "C"

import (
	"fmt"
	"unsafe"

	sitter "github.com/tree-sitter/go-tree-sitter"
)

// treePtr reads the C tree pointer out of the binding's Tree, whose only
// field it is (go-tree-sitter v0.25.0: type Tree struct{ _inner *C.TSTree }).
func treePtr(t *sitter.Tree) unsafe.Pointer { return *(*unsafe.Pointer)(unsafe.Pointer(t)) }

// Limits on what one file may cost. Python itself refuses deeper nesting
// than a few hundred levels (200 brackets, 100 blocks), so maxDepth only
// cuts what no interpreter runs; the node cap keeps the Go copy of the tree
// (about 64 bytes a node) and the walk over it within a worker's share of
// memory, and maxParseBytes does the same for tree-sitter's own tree.
const (
	maxDepth      = 1500
	maxNodes      = 1_000_000
	maxParseBytes = 112 << 20
	// trimAbove: a parse that held more than this trims the C heap after
	// its tree is closed (trimming is not free; small parses skip it)
	trimAbove = 16 << 20
)

// convLimits says what the conversion left out.
type convLimits struct {
	deepAt int // byte offset of the first node cut at maxDepth, or -1
}

// errTooManyNodes is returned for a tree over maxNodes.
type errTooManyNodes struct{ n int }

func (e errTooManyNodes) Error() string {
	return fmt.Sprintf("the syntax tree has %d nodes, over the %d-node limit per file", e.n, maxNodes)
}

// convert copies the tree into Go nodes and closes it. Subtrees deeper than
// maxDepth are cut (and reported through convLimits), so that every walk
// over the copy, recursive or not, is bounded by maxDepth.
func (g *grammar) convert(tree *sitter.Tree, held int64) (*node, convLimits, error) {
	lim := convLimits{deepAt: -1}
	closeTree := func() {
		tree.Close()
		if held > trimAbove {
			trimMalloc()
		}
	}
	count := int(tree.RootNode().DescendantCount())
	if count > maxNodes {
		closeTree()
		return nil, lim, errTooManyNodes{count}
	}
	if count < 1 {
		count = 1
	}
	recs := make([]C.mlg_rec, count)
	n := int(C.mlg_flatten(treePtr(tree), &recs[0], C.int(count)))
	// the C tree is no longer needed: free it before the Go copy exists
	closeTree()
	if n <= 0 {
		return &node{kind: "ERROR", named: true, bad: true}, lim, nil
	}
	// depth, saturated at maxDepth+1, kept in the flags' upper bits: a node
	// past maxDepth, and so everything under it, is dropped
	const cut = maxDepth + 1
	nkids := make([]int32, n)
	for i := 1; i < n; i++ {
		p := recs[i].parent
		d := min(uint32(recs[p].flags>>2)+1, cut)
		recs[i].flags |= C.uint32_t(d << 2)
		if d >= cut {
			if lim.deepAt < 0 {
				lim.deepAt = int(recs[i].start)
			}
			continue
		}
		nkids[p]++
	}
	nodes := make([]node, n)
	// children slices carved out of one backing array
	kidBuf := make([]*node, n)
	off := 0
	for i := 0; i < n; i++ {
		r := &recs[i]
		if i > 0 && uint32(r.flags>>2) >= cut {
			continue
		}
		x := &nodes[i]
		x.start, x.end = uint32(r.start), uint32(r.end)
		sym := int(r.sym)
		if sym < len(g.kinds) {
			x.kind, x.named = g.kinds[sym], g.named[sym]
		} else {
			x.kind, x.named = "ERROR", true
		}
		if f := int(r.field); f > 0 && f < len(fieldNames) {
			x.fid = uint16(f)
		}
		x.bad = r.flags&3 != 0 || x.kind == "ERROR"
		x.kids = kidBuf[off : off : off+int(nkids[i])]
		off += int(nkids[i])
		if i > 0 {
			p := &nodes[r.parent]
			p.kids = append(p.kids, x)
		}
	}
	return &nodes[0], lim, nil
}

// parseBytes is what tree-sitter holds on this thread; only differences
// taken within one C call (the parse's progress callbacks) mean anything.
func parseBytes() int64 { return int64(C.mlg_live_bytes()) }

// trimMalloc returns freed C heap pages to the system.
func trimMalloc() { C.mlg_trim() }

// useLibcAllocator skips the binding's per-allocation cgo callbacks (about a
// sixth of scan CPU in profiles). It runs once, before the first parser.
func useLibcAllocator() { C.mlg_use_libc_allocator() }
