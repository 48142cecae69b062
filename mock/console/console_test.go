package console

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestHandler(t *testing.T) {
	h := Handler("/base/")
	tests := []struct {
		path, ctype string
		status      int
		has         string
	}{
		{"/base/ui", "text/html", 200, `<script src="/base/ui/app.js" defer></script>`},
		{"/base/ui/app.js", "text/javascript", 200, "const BASE ="},
		{"/base/ui/app.css", "text/css", 200, "[hidden]"},
		{"/base/ui/index.html", "", 404, ""},
		{"/base/ui/console.go", "", 404, ""},
	}
	for _, tt := range tests {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest("GET", tt.path, nil))
		if w.Code != tt.status {
			t.Errorf("%s: %d, want %d", tt.path, w.Code, tt.status)
			continue
		}
		if tt.status != http.StatusOK {
			continue
		}
		if !strings.HasPrefix(w.Header().Get("Content-Type"), tt.ctype) || w.Header().Get("Content-Security-Policy") != contentSecurityPolicy {
			t.Errorf("%s: headers %v", tt.path, w.Header())
		}
		if body := w.Body.String(); !strings.Contains(body, tt.has) || strings.Contains(body, "{{base}}") {
			t.Errorf("%s: body lacks %q or keeps a placeholder", tt.path, tt.has)
		}
	}
}

func TestServes(t *testing.T) {
	for rel, want := range map[string]bool{"ui": true, "ui/app.js": true, "uix": false, "requests": false, "": false} {
		if got := Serves(rel); got != want {
			t.Errorf("Serves(%q) = %v, want %v", rel, got, want)
		}
	}
}
