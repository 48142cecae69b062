// Package hostile serves the misbehaving HTTP servers a conformance harness
// must survive: ones that hang, send garbage, huge or endless bodies, reset
// connections, trickle, lie about Content-Length, redirect forever or send
// megabytes of headers. Tests of the harness use it; it is no part of the
// product.
package hostile

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"time"
)

// Kind is one way of misbehaving.
type Kind string

// The kinds, and what a client sees.
const (
	Hang           Kind = "hang"            // accepts, reads the request, never answers
	Garbage        Kind = "garbage"         // answers bytes that are not HTTP
	Huge           Kind = "huge"            // a 100 MB body, declared in Content-Length
	Reset          Kind = "reset"           // resets the connection (RST)
	Trickle        Kind = "trickle"         // headers, then one byte of body every 50 ms, forever
	LyingLength    Kind = "lying-length"    // declares 1000 bytes, sends 10 and closes
	EndlessChunked Kind = "endless-chunked" // a chunked body that never ends
	RedirectLoop   Kind = "redirect-loop"   // 302 to itself
	HugeHeaders    Kind = "huge-headers"    // 10 MB of headers
)

// Kinds lists every kind.
var Kinds = []Kind{Hang, Garbage, Huge, Reset, Trickle, LyingLength, EndlessChunked, RedirectLoop, HugeHeaders}

// Handler misbehaves as kind on every request. It returns when the client
// goes away or stop is closed.
func Handler(kind Kind, stop <-chan struct{}) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		switch kind {
		case Hang:
			// Read the request to its end, so the server notices the client leave.
			_, _ = io.Copy(io.Discard, r.Body)
			select {
			case <-stop:
			case <-r.Context().Done():
			}
		case Garbage:
			raw(w, func(bw *bufio.Writer) { _, _ = bw.WriteString("\x1b[31m\x00\xff{not http]]>\r\n\r\n") })
		case Huge:
			w.Header().Set("Content-Type", "application/json")
			w.Header().Set("Content-Length", fmt.Sprint(100<<20))
			chunk := bytes.Repeat([]byte("a"), 1<<20)
			for range 100 {
				if _, err := w.Write(chunk); err != nil {
					return
				}
			}
		case Reset:
			conn, _, err := w.(http.Hijacker).Hijack()
			if err == nil {
				if tc, ok := conn.(*net.TCPConn); ok {
					_ = tc.SetLinger(0)
				}
				conn.Close()
			}
		case Trickle:
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusOK)
			tick := time.NewTicker(50 * time.Millisecond)
			defer tick.Stop()
			for {
				select {
				case <-stop:
					return
				case <-r.Context().Done():
					return
				case <-tick.C:
				}
				if _, err := w.Write([]byte(" ")); err != nil {
					return
				}
				w.(http.Flusher).Flush()
			}
		case LyingLength:
			raw(w, func(bw *bufio.Writer) {
				_, _ = bw.WriteString("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{\"data\":1}")
			})
		case EndlessChunked:
			w.Header().Set("Content-Type", "application/json")
			chunk := bytes.Repeat([]byte("[1,"), 1<<18)
			for {
				select {
				case <-stop:
					return
				default:
				}
				if _, err := w.Write(chunk); err != nil {
					return
				}
			}
		case RedirectLoop:
			http.Redirect(w, r, r.URL.RequestURI(), http.StatusFound)
		case HugeHeaders:
			raw(w, func(bw *bufio.Writer) {
				_, _ = bw.WriteString("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n")
				pad := strings.Repeat("x", 1000)
				for i := 0; i < 10<<10; i++ {
					if _, err := fmt.Fprintf(bw, "X-Pad-%d: %s\r\n", i, pad); err != nil {
						return
					}
				}
				_, _ = bw.WriteString("Content-Length: 2\r\n\r\n{}")
			})
		default:
			panic("hostile: unknown kind " + string(kind))
		}
	}
}

// raw writes straight to the connection and closes it.
func raw(w http.ResponseWriter, write func(*bufio.Writer)) {
	conn, bw, err := w.(http.Hijacker).Hijack()
	if err != nil {
		return
	}
	defer conn.Close()
	_ = conn.SetWriteDeadline(time.Now().Add(10 * time.Second))
	write(bw.Writer)
	_ = bw.Flush()
}

// AfterSetUp serves a harness that checks its set-up first: the mock's
// health endpoint answers 404 (this is not the mock), the first other
// request goes to api (a well-behaved server, which passes the harness's
// preflight), and every later request to hostile.
func AfterSetUp(api, hostile http.Handler) http.Handler {
	var served atomic.Int64
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/__opsconform/") {
			http.NotFound(w, r)
			return
		}
		if served.Add(1) == 1 {
			api.ServeHTTP(w, r)
			return
		}
		hostile.ServeHTTP(w, r)
	})
}
