package mock

import (
	"sync"
	"time"

	"github.com/opsconform/opsconform/internal/residency"
)

// releaseDelay is how long a release of memory waits after the build that
// asked for it: the request that waited for the build is answered first,
// and builds close together (a client trying each profile, or each
// operation) share one release.
const releaseDelay = 100 * time.Millisecond

// releaser hands back to the OS what a one-off build no longer needs (see
// Options.ReleaseMemory), releaseDelay after the first of any number of
// requests for it: the executable's pages the build ran, and, when a build
// made garbage worth a full collection (a profile's data), the heap's free
// spans too.
type releaser struct {
	mu      sync.Mutex
	pending bool
	heap    bool // some pending request wants the heap released too
	// do releases; nil for residency's (tests record the calls instead).
	do func(heap bool)
}

// soon asks for a release of the heap and the executable's pages.
func (r *releaser) soon() { r.request(true) }

// pagesSoon asks for a release of the executable's pages alone: after a
// build (an operation's schemas and validator, on its first request) that
// ran code once but made too little garbage to pay for a full collection,
// which a big --spec's heap makes costly.
func (r *releaser) pagesSoon() { r.request(false) }

func (r *releaser) request(heap bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.heap = r.heap || heap
	if r.pending {
		return
	}
	r.pending = true
	time.AfterFunc(releaseDelay, func() {
		r.mu.Lock()
		heap := r.heap
		r.pending, r.heap = false, false
		r.mu.Unlock()
		switch {
		case r.do != nil:
			r.do(heap)
		case heap:
			residency.Release()
		default:
			_, _ = residency.UnmapExecutable()
		}
	})
}
