package main

import (
	"bufio"
	"bytes"
	"crypto/md5"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"net"
	"strconv"
	"strings"
	"time"
)

// The load generator speaks HTTP/1.1 itself, over one keep-alive connection
// per simulated client: a request is bytes prepared once (and, for Digest,
// one hash per request), a response is a status line, headers and a body
// read into a reused buffer. net/http's client would spend several times
// the CPU per request, and on a machine the client shares with the server
// that CPU is taken from the server being measured.

// response is what the client keeps of an answer.
type response struct {
	status    int
	body      []byte // valid until the next read on the connection
	challenge string // the first WWW-Authenticate value, for Digest
	close     bool   // the server will close the connection
}

// conn is one client connection.
type conn struct {
	c    net.Conn
	br   *bufio.Reader
	body []byte // reused body buffer
}

func dial(addr string) (*conn, error) {
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		return nil, err
	}
	if tc, ok := c.(*net.TCPConn); ok {
		_ = tc.SetNoDelay(true)
	}
	return &conn{c: c, br: bufio.NewReaderSize(c, 64<<10)}, nil
}

func (c *conn) Close() error { return c.c.Close() }

// roundTrip writes req and reads the answer.
func (c *conn) roundTrip(req []byte) (response, error) {
	if _, err := c.c.Write(req); err != nil {
		return response{}, fmt.Errorf("write: %w", err)
	}
	return c.read()
}

// read parses one HTTP/1.1 response: Content-Length or chunked bodies.
func (c *conn) read() (response, error) {
	var resp response
	line, err := c.line()
	if err != nil {
		return resp, fmt.Errorf("status line: %w", err)
	}
	// "HTTP/1.1 200 OK"
	if len(line) < 12 || !bytes.HasPrefix(line, []byte("HTTP/1.")) {
		return resp, fmt.Errorf("malformed status line %q", line)
	}
	if resp.status, err = strconv.Atoi(string(line[9:12])); err != nil {
		return resp, fmt.Errorf("malformed status line %q", line)
	}
	if line[7] == '0' {
		resp.close = true // HTTP/1.0 closes unless told otherwise
	}
	length, chunked := -1, false
	for {
		line, err := c.line()
		if err != nil {
			return resp, fmt.Errorf("headers: %w", err)
		}
		if len(line) == 0 {
			break
		}
		name, value, ok := bytes.Cut(line, []byte(":"))
		if !ok {
			return resp, fmt.Errorf("malformed header line %q", line)
		}
		value = bytes.TrimSpace(value)
		switch {
		case asciiEqualFold(name, "content-length"):
			if length, err = strconv.Atoi(string(value)); err != nil || length < 0 {
				return resp, fmt.Errorf("malformed Content-Length %q", value)
			}
		case asciiEqualFold(name, "transfer-encoding"):
			chunked = asciiEqualFold(value, "chunked")
		case asciiEqualFold(name, "connection"):
			if asciiEqualFold(value, "close") {
				resp.close = true
			} else if asciiEqualFold(value, "keep-alive") {
				resp.close = false
			}
		case asciiEqualFold(name, "www-authenticate") && resp.challenge == "":
			resp.challenge = string(value)
		}
	}
	c.body = c.body[:0]
	switch {
	case chunked:
		err = c.readChunked()
	case length >= 0:
		err = c.readN(length)
	case resp.status == 204 || resp.status == 304 || resp.status/100 == 1:
	default: // no length: the body runs to the end of the connection
		resp.close = true
		var b bytes.Buffer
		_, err = io.Copy(&b, c.br)
		c.body = append(c.body, b.Bytes()...)
	}
	if err != nil {
		return resp, fmt.Errorf("body: %w", err)
	}
	resp.body = c.body
	return resp, nil
}

func (c *conn) readN(n int) error {
	if cap(c.body) < len(c.body)+n {
		c.body = append(make([]byte, 0, len(c.body)+n), c.body...)
	}
	start := len(c.body)
	c.body = c.body[:start+n]
	_, err := io.ReadFull(c.br, c.body[start:])
	return err
}

func (c *conn) readChunked() error {
	for {
		line, err := c.line()
		if err != nil {
			return err
		}
		size, _, _ := bytes.Cut(line, []byte(";"))
		n, err := strconv.ParseUint(string(bytes.TrimSpace(size)), 16, 31)
		if err != nil {
			return fmt.Errorf("malformed chunk size %q", line)
		}
		if n == 0 {
			for { // trailers, up to the blank line
				line, err := c.line()
				if err != nil {
					return err
				}
				if len(line) == 0 {
					return nil
				}
			}
		}
		if err := c.readN(int(n)); err != nil {
			return err
		}
		if crlf, err := c.line(); err != nil || len(crlf) != 0 {
			return fmt.Errorf("chunk not followed by CRLF")
		}
	}
}

// line reads one CRLF- (or LF-) terminated line, without the terminator.
// The slice is valid until the next read.
func (c *conn) line() ([]byte, error) {
	line, err := c.br.ReadSlice('\n')
	if err != nil {
		if errors.Is(err, bufio.ErrBufferFull) {
			return nil, fmt.Errorf("line longer than %d bytes", c.br.Size())
		}
		return nil, err
	}
	line = line[:len(line)-1]
	if n := len(line); n > 0 && line[n-1] == '\r' {
		line = line[:n-1]
	}
	return line, nil
}

func asciiEqualFold(b []byte, s string) bool {
	if len(b) != len(s) {
		return false
	}
	for i := range len(b) {
		x, y := b[i], s[i]
		if 'A' <= x && x <= 'Z' {
			x += 'a' - 'A'
		}
		if 'A' <= y && y <= 'Z' {
			y += 'a' - 'A'
		}
		if x != y {
			return false
		}
	}
	return true
}

// buildRequest is a GET of target on host with the given extra header lines
// ("Name: value"), keep-alive.
func buildRequest(host, target string, headers ...string) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "GET %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: opsconform-load\r\nAccept: application/json\r\n", target, host)
	for _, h := range headers {
		b.WriteString(h)
		b.WriteString("\r\n")
	}
	b.WriteString("\r\n")
	return b.Bytes()
}

// digestClient answers RFC 7616 challenges (qop=auth, MD5 or SHA-256) the
// way a client library does: one nonce per connection, the nonce count
// rising with each request, a fresh nonce when the server says stale.
// HA1 and HA2 are worked out once per challenge, so a request costs the
// client one hash.
type digestClient struct {
	user, pass, method, uri string

	realm, nonce, opaque, alg string
	newHash                   func() hash.Hash
	ha1, ha2                  string
	cnonce                    string
	nc                        int
}

// challenged takes a WWW-Authenticate value and resets the nonce count.
func (d *digestClient) challenged(header string) error {
	params, ok := parseChallenge(header)
	if !ok {
		return fmt.Errorf("not a Digest challenge: %q", header)
	}
	switch alg := strings.ToUpper(params["algorithm"]); alg {
	case "", "MD5":
		d.alg, d.newHash = "MD5", md5.New
	case "SHA-256":
		d.alg, d.newHash = "SHA-256", sha256.New
	default:
		return fmt.Errorf("digest algorithm %q: only MD5 and SHA-256 are answered", alg)
	}
	if qop := params["qop"]; !containsToken(qop, "auth") {
		return fmt.Errorf("digest qop %q: only auth is answered", qop)
	}
	d.realm, d.nonce, d.opaque = params["realm"], params["nonce"], params["opaque"]
	if d.nonce == "" {
		return fmt.Errorf("digest challenge without a nonce: %q", header)
	}
	d.ha1 = d.hex(d.user + ":" + d.realm + ":" + d.pass)
	d.ha2 = d.hex(d.method + ":" + d.uri)
	var c [8]byte
	_, _ = rand.Read(c[:])
	d.cnonce = hex.EncodeToString(c[:])
	d.nc = 0
	return nil
}

func (d *digestClient) hex(s string) string {
	h := d.newHash()
	h.Write([]byte(s))
	return hex.EncodeToString(h.Sum(nil))
}

// authorization is the next request's Authorization header value.
func (d *digestClient) authorization() string {
	d.nc++
	nc := fmt.Sprintf("%08x", d.nc)
	resp := d.hex(d.ha1 + ":" + d.nonce + ":" + nc + ":" + d.cnonce + ":auth:" + d.ha2)
	s := fmt.Sprintf(`Digest username="%s", realm="%s", nonce="%s", uri="%s", algorithm=%s, response="%s", qop=auth, nc=%s, cnonce="%s"`,
		d.user, d.realm, d.nonce, d.uri, d.alg, resp, nc, d.cnonce)
	if d.opaque != "" {
		s += fmt.Sprintf(`, opaque="%s"`, d.opaque)
	}
	return s
}

// parseChallenge reads `Digest k=v, k="v", …`; ok is false for another scheme.
func parseChallenge(h string) (map[string]string, bool) {
	scheme, rest, _ := strings.Cut(strings.TrimSpace(h), " ")
	if !strings.EqualFold(scheme, "Digest") {
		return nil, false
	}
	params := map[string]string{}
	for rest = strings.TrimSpace(rest); rest != ""; rest = strings.TrimLeft(rest, ", ") {
		key, after, ok := strings.Cut(rest, "=")
		if !ok {
			return nil, false
		}
		key = strings.ToLower(strings.TrimSpace(key))
		var val string
		if strings.HasPrefix(after, `"`) {
			end := strings.IndexByte(after[1:], '"')
			if end < 0 {
				return nil, false
			}
			val, rest = after[1:1+end], after[2+end:]
		} else {
			val, rest, _ = strings.Cut(after, ",")
			val = strings.TrimSpace(val)
		}
		params[key] = val
	}
	return params, true
}

func containsToken(list, tok string) bool {
	for t := range strings.SplitSeq(list, ",") {
		if strings.EqualFold(strings.TrimSpace(t), tok) {
			return true
		}
	}
	return false
}
