package mock

import (
	"testing"
	"time"
)

// TestReleaserSharesOneRelease: requests close together share one release,
// which frees the heap when any of them asked for it; a later request
// gets a release of its own.
func TestReleaserSharesOneRelease(t *testing.T) {
	tests := []struct {
		name     string
		requests []func(*releaser)
		heap     bool
	}{
		{"pages alone", []func(*releaser){(*releaser).pagesSoon, (*releaser).pagesSoon}, false},
		{"a data build among operations' first requests", []func(*releaser){(*releaser).pagesSoon, (*releaser).soon, (*releaser).pagesSoon}, true},
		{"a data build alone", []func(*releaser){(*releaser).soon}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			calls := make(chan bool, 4)
			r := &releaser{do: func(heap bool) { calls <- heap }}
			for _, req := range tt.requests {
				req(r)
			}
			if got := receive(t, calls); got != tt.heap {
				t.Errorf("the release freed the heap: %v; want %v", got, tt.heap)
			}
			r.pagesSoon()
			if got := receive(t, calls); got {
				t.Error("the next window's pages-only release freed the heap: the last window's request leaked into it")
			}
			if len(calls) != 0 {
				t.Errorf("%d releases more than one per window", len(calls))
			}
		})
	}
}

func receive(t *testing.T, calls <-chan bool) bool {
	t.Helper()
	select {
	case heap := <-calls:
		return heap
	case <-time.After(10 * time.Second):
		t.Fatal("no release within 10 s")
		return false
	}
}
