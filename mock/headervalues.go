package mock

import (
	"math"
	"net/http"
	"strconv"
	"sync/atomic"
	"time"
)

// Header values every answer carries are made once and shared: a header
// map is assigned these one-element slices and never written into, so
// concurrent answers may hold the same one. What they save is an
// allocation or two per header per request, and Date's formatting.

// jsonContentType is Content-Type: application/json.
var jsonContentType = []string{"application/json"}

// intValues holds the values of small numbers (rate-limit counts), made on
// first use.
var intValues [1 << 12]atomic.Pointer[[]string]

// intValue is the header value of n.
func intValue(n int) []string {
	if n < 0 || n >= len(intValues) {
		return []string{strconv.Itoa(n)}
	}
	if v := intValues[n].Load(); v != nil {
		return *v
	}
	v := []string{strconv.Itoa(n)}
	intValues[n].Store(&v)
	return v
}

// secondValue is a header value that changes once a second.
type secondValue struct {
	sec int64
	v   []string
}

// clockValues caches the values derived from the mock's clock, for the
// second they were made in: every answer in that second shares them.
type clockValues struct {
	date  atomic.Pointer[secondValue] // Date
	reset atomic.Pointer[secondValue] // X-RateLimit-Reset, in whole seconds
}

// dateValue is Date for now, in http.TimeFormat.
func (c *clockValues) dateValue(now time.Time) []string {
	sec := now.Unix()
	if v := c.date.Load(); v != nil && v.sec == sec {
		return v.v
	}
	v := &secondValue{sec: sec, v: []string{now.UTC().Format(http.TimeFormat)}}
	c.date.Store(v)
	return v.v
}

// resetValue is X-RateLimit-Reset for a window closing at reset: the Unix
// time in whole seconds, rounded up (see resetSeconds).
func (c *clockValues) resetValue(reset time.Time) []string {
	sec := int64(math.Ceil(float64(reset.UnixNano()) / 1e9))
	if v := c.reset.Load(); v != nil && v.sec == sec {
		return v.v
	}
	v := &secondValue{sec: sec, v: []string{strconv.FormatInt(sec, 10)}}
	c.reset.Store(v)
	return v.v
}
