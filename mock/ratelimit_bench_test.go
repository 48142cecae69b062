package mock

import (
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/opsconform/opsconform/specs"
)

// BenchmarkLimiter takes from budgets at 16 goroutines, each on its own key.
// "mutex" is the baseline measured in the same run: an uncontended lock and
// unlock per request, the least a per-key counter can cost.
func BenchmarkLimiter(b *testing.B) {
	lim := specs.Limit{Limit: 1 << 30, Window: time.Minute}
	now := time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	b.Run("mutex", func(b *testing.B) {
		b.ReportAllocs()
		b.SetParallelism(8) // 8 × GOMAXPROCS(2) = 16 goroutines
		b.RunParallel(func(pb *testing.PB) {
			var mu sync.Mutex
			n := 0
			for pb.Next() {
				mu.Lock()
				n++
				mu.Unlock()
			}
			_ = n
		})
	})
	b.Run("take", func(b *testing.B) {
		l := newLimiter(clock, 1)
		var id atomic.Int64
		b.ReportAllocs()
		b.SetParallelism(8)
		b.RunParallel(func(pb *testing.PB) {
			k := budgetKey{"opsmerge", "key-" + strconv.FormatInt(id.Add(1), 10), "default"}
			for pb.Next() {
				if !l.take(k, lim).allowed {
					b.Error("refused")
					return
				}
			}
		})
	})
}
