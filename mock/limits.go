package mock

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"

	"github.com/opsconform/opsconform/specs"
)

// Limits on what one request may be. The mock answers a request past them
// in the owning vendor's error envelope: 413 for the body (see maxBody),
// 414 for the URI, 431 for the header section. Past ServerMaxHeaderBytes
// net/http answers itself, before any handler runs, with a plain-text 431.
const (
	// MaxURIBytes is the longest request target (path and query) served: 8 KiB, as common servers allow.
	MaxURIBytes = 8 << 10
	// MaxHeaderBytes is the largest header section served, request line included.
	MaxHeaderBytes = 32 << 10
	// ServerMaxHeaderBytes is http.Server's limit: above MaxHeaderBytes so
	// that the mock, not net/http, answers the requests in between.
	ServerMaxHeaderBytes = 64 << 10
)

// Timeouts of the server NewHTTPServer makes.
const (
	// ReadHeaderTimeout bounds how long a client may take to send its
	// headers (slowloris).
	ReadHeaderTimeout = 10 * time.Second
	// ReadTimeout bounds reading a whole request, body included.
	ReadTimeout = 30 * time.Second
	// IdleTimeout closes keep-alive connections that stay unused this long.
	IdleTimeout = 2 * time.Minute
)

// NewHTTPServer wraps h in an http.Server with the mock's limits and
// timeouts. There is no write timeout: an injected latency may hold an
// answer back for minutes (see maxLatency).
func NewHTTPServer(h http.Handler) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: ReadHeaderTimeout,
		ReadTimeout:       ReadTimeout,
		IdleTimeout:       IdleTimeout,
		MaxHeaderBytes:    ServerMaxHeaderBytes,
	}
}

// ErrGraceExpired is returned by Serve when requests still in flight at the
// end of the grace period had to be cut off.
var ErrGraceExpired = errors.New("requests still in flight were cut off")

// Serve serves hs on ln (over TLS when hs.TLSConfig is set) until ctx is
// done, then shuts down gracefully: the listener closes at once, idle
// connections are closed, and requests in flight are answered, for up to
// grace; whatever still runs then is cut off (ErrGraceExpired).
func Serve(ctx context.Context, hs *http.Server, ln net.Listener, grace time.Duration) error {
	errc := make(chan error, 1)
	go func() {
		if hs.TLSConfig != nil {
			errc <- hs.ServeTLS(ln, "", "")
			return
		}
		errc <- hs.Serve(ln)
	}()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	shutdown, cancel := context.WithTimeout(context.Background(), grace)
	defer cancel()
	err := hs.Shutdown(shutdown)
	if errors.Is(err, context.DeadlineExceeded) {
		_ = hs.Close()
		err = fmt.Errorf("%w after %s", ErrGraceExpired, grace)
	}
	if serveErr := <-errc; !errors.Is(serveErr, http.ErrServerClosed) && err == nil {
		err = serveErr
	}
	return err
}

// drainLimit is how much of a request body the mock reads after answering
// without reading it (a 401, 404 or 405 for a POST), so that a client still
// sending it gets the answer: a server that closes on unread data makes the
// client's kernel reset the connection, answer and all. A body declared
// larger is not read; its connection closes after the answer.
const drainLimit = 4 << 20

// drainUnread reads what the client is still sending of a body no stage
// read, up to drainLimit, before the buffered answer goes out: with the
// body consumed, net/http keeps the connection open too. Its start is kept
// for the journal, which shows a refused request's body as it shows any
// other's (redacted when read out).
func drainUnread(x *exchange) {
	r := x.r
	if x.body != nil || r.Body == nil || r.Body == http.NoBody || r.ContentLength > drainLimit ||
		x.status == http.StatusRequestEntityTooLarge {
		return
	}
	head := bytes.NewBuffer(make([]byte, 0, 512))
	n, _ := io.CopyN(head, r.Body, JournalBodyCap+bodyMargin)
	rest, _ := io.CopyN(io.Discard, r.Body, drainLimit-n)
	if n > 0 {
		x.unread, x.unreadSize = head.Bytes(), int(n+rest)
	}
}

// checkLimits refuses a request whose URI or header section is larger than
// the mock serves, in the envelope of the profile that owns its path.
func (s *Server) checkLimits(x *exchange) *failure {
	r := x.r
	var f *failure
	if n := len(r.RequestURI); n > MaxURIBytes {
		f = &failure{kind: specs.InvalidParameter, status: http.StatusRequestURITooLong,
			message: fmt.Sprintf("The request URI is %d bytes long; this server takes at most %d.", n, MaxURIBytes),
			reason:  ReasonURITooLong, why: fmt.Sprintf("URI of %d bytes, over %d", n, MaxURIBytes)}
	} else if n := headerBytes(r); n > MaxHeaderBytes {
		f = &failure{kind: specs.InvalidParameter, status: http.StatusRequestHeaderFieldsTooLarge,
			message: fmt.Sprintf("The request's headers are %d bytes long; this server takes at most %d.", n, MaxHeaderBytes),
			reason:  ReasonHeadersTooLarge, why: fmt.Sprintf("headers of %d bytes, over %d", n, MaxHeaderBytes)}
	}
	if f != nil {
		x.profile = s.router.owner(s.profiles, r.URL.Path)
	}
	return f
}

// headerBytes is the size of the request's header section as sent: the
// request line and each field line with its CRLF.
func headerBytes(r *http.Request) int {
	n := len(r.Method) + 1 + len(r.RequestURI) + 1 + len(r.Proto) + 2
	n += len("Host: ") + len(r.Host) + 2
	for k, vs := range r.Header {
		for _, v := range vs {
			n += len(k) + 2 + len(v) + 2
		}
	}
	return n + 2
}
