package suites

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"time"
)

// patient honours 429 the way the vendors tell clients to: wait Retry-After
// (up to --max-wait) and send the request again, a few times. Without it a
// run would judge a server by its own rate limit: MongoDB's 100 requests a
// minute are fewer than a run sends with one key. The rate-limit checks,
// which judge the 429 itself, use clients without it.
type patient struct {
	next http.RoundTripper
	env  *env
}

// maxRetries bounds how often one request is retried after a 429.
const maxRetries = 3

// RoundTrip gives each attempt its own deadline (--timeout): the wait
// between attempts is the server's to ask for, not the request's to spend.
func (p patient) RoundTrip(r *http.Request) (*http.Response, error) {
	for attempt := 0; ; attempt++ {
		ctx, cancel := context.WithTimeout(r.Context(), p.env.timeout)
		resp, err := p.next.RoundTrip(r.WithContext(ctx))
		if err != nil {
			cancel()
			return nil, err
		}
		resp.Body = cancelOnClose{ReadCloser: resp.Body, cancel: cancel}
		if !rateLimited(resp) || attempt == maxRetries {
			return resp, nil
		}
		secs, perr := strconv.Atoi(resp.Header.Get("Retry-After"))
		wait := time.Duration(secs) * time.Second
		if perr != nil || secs < 0 || wait > p.env.maxWait || r.Body != nil && r.GetBody == nil {
			return resp, nil
		}
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
		resp.Body.Close()
		if err := p.env.sleep(r.Context(), max(wait, time.Second)); err != nil {
			return nil, err
		}
		next := r.Clone(r.Context())
		if r.GetBody != nil {
			if next.Body, err = r.GetBody(); err != nil {
				return nil, err
			}
		}
		r = next
	}
}

// rateLimited reports whether resp refuses the request for its rate: a
// 429, or a 200 with Retry-After whose body is an envelope carrying 429
// (MongoDB's envelope=true answers every status under HTTP 200, with the
// real one in the body's status; a check of the envelope must not judge
// the server by its own rate limit either). A 200's body is peeked, at
// most envelopePeek bytes, and given back whole.
func rateLimited(resp *http.Response) bool {
	if resp.StatusCode == http.StatusTooManyRequests {
		return true
	}
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Retry-After") == "" {
		return false
	}
	head, err := io.ReadAll(io.LimitReader(resp.Body, envelopePeek))
	resp.Body = struct {
		io.Reader
		io.Closer
	}{io.MultiReader(bytes.NewReader(head), resp.Body), resp.Body}
	var env struct {
		Status int `json:"status"`
	}
	return err == nil && json.Unmarshal(head, &env) == nil && env.Status == http.StatusTooManyRequests
}

// envelopePeek bounds what rateLimited reads of a 200: an enveloped 429 is
// an error body, a few hundred bytes.
const envelopePeek = 64 << 10

// cancelOnClose ends an attempt's deadline when its body is closed.
type cancelOnClose struct {
	io.ReadCloser
	cancel context.CancelFunc
}

func (c cancelOnClose) Close() error {
	err := c.ReadCloser.Close()
	c.cancel()
	return err
}

// impatient marks a check that judges 429s itself: its clients take the
// first answer as final.
func impatient(run func(*T)) func(*T) {
	return func(t *T) {
		t.impatient = true
		run(t)
	}
}
