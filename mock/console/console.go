// Package console is the mock's web console: one page, with its script and
// style sheet, built into the binary. It holds no data: everything it shows
// it reads from the control API, from the browser, with the control token
// when the mock has one. It never shows a secret: the control API's key
// lists are redacted, the journal is, and a key regenerated from the page
// is regenerated with ?reveal=pickup, whose answer has no secret in it.
//
// The page is strict about what it runs: a Content-Security-Policy that
// allows only its own script and style sheet and connections to its own
// origin, no framing (so no click can be stolen), and no referrer. Every
// value it shows is written as text, never as HTML.
package console

import (
	"bytes"
	"embed"
	"net/http"
	"path"
	"strings"
)

//go:embed assets
var assets embed.FS

// Page is the name the console is served under, below the control API's prefix.
const Page = "ui"

// contentSecurityPolicy lets the page run its own script and style sheet
// and call its own origin, and nothing else.
const contentSecurityPolicy = "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; " +
	"img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

// Serves reports whether rel, a path below the control API's prefix, is
// one of the console's files.
func Serves(rel string) bool { return rel == Page || strings.HasPrefix(rel, Page+"/") }

type asset struct {
	contentType string
	body        []byte
}

// Handler serves the console below prefix (the control API's, such as
// "/__opsconform/"): the page at prefix+"ui", its script and style sheet
// beside it. The page calls the control API under the same prefix.
func Handler(prefix string) http.Handler {
	files := map[string]asset{}
	for name, ct := range map[string]string{
		"index.html": "text/html; charset=utf-8",
		"app.js":     "text/javascript; charset=utf-8",
		"app.css":    "text/css; charset=utf-8",
	} {
		body, err := assets.ReadFile("assets/" + name)
		if err != nil {
			panic("console: embedded asset missing: " + name) // a build without the assets is broken
		}
		files[name] = asset{ct, bytes.ReplaceAll(body, []byte("{{base}}"), []byte(prefix))}
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		name := path.Base(r.URL.Path)
		if name == Page {
			name = "index.html"
		}
		a, ok := files[name]
		if !ok || name == "index.html" && path.Base(r.URL.Path) != Page {
			http.NotFound(w, r)
			return
		}
		h := w.Header()
		h.Set("Content-Type", a.contentType)
		h.Set("Content-Security-Policy", contentSecurityPolicy)
		h.Set("X-Frame-Options", "DENY")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Cache-Control", "no-store")
		_, _ = w.Write(a.body)
	})
}
