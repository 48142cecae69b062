package mock

import (
	"net/http"
	"strings"
)

// exposedHeaders are the response headers a browser client may read: the
// ones the vendors document, which a cross-origin script could not see otherwise.
var exposedHeaders = strings.Join([]string{
	"WWW-Authenticate", "Retry-After", "X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset",
	"RateLimit", "RateLimit-Policy", "Deprecation", "Sunset", "Link", "X-MongoDB-Service-Version",
	"Preference-Applied", "Allow", "Location",
}, ", ")

// allMethods is what a preflight for a path no operation serves is told.
const allMethods = "GET, HEAD, OPTIONS, POST, PUT, PATCH, DELETE"

// cors answers a browser's preflight and marks every answer to a request
// with an Origin as readable by that origin, credentials included, as Prism
// does: a developer's web app on another port can call the mock. It reports
// whether it answered the request itself (a preflight).
func (s *Server) cors(w http.ResponseWriter, r *http.Request) bool {
	origin := r.Header.Get("Origin")
	if origin == "" {
		return false
	}
	h := w.Header()
	// The origin itself, not "*": browsers refuse "*" on requests with credentials.
	h.Set("Access-Control-Allow-Origin", origin)
	h.Set("Access-Control-Allow-Credentials", "true")
	h.Add("Vary", "Origin")
	if r.Method != http.MethodOptions || r.Header.Get("Access-Control-Request-Method") == "" {
		h.Set("Access-Control-Expose-Headers", exposedHeaders)
		return false
	}
	methods := allMethods
	if _, _, allowed := s.router.match("\x00", r.URL.EscapedPath()); len(allowed) > 0 {
		methods = strings.Join(append(allowed, http.MethodOptions), ", ")
	}
	h.Set("Access-Control-Allow-Methods", methods)
	if req := r.Header.Get("Access-Control-Request-Headers"); req != "" {
		h.Set("Access-Control-Allow-Headers", req)
	} else {
		h.Set("Access-Control-Allow-Headers", "Authorization, Content-Type, apikey, Prefer")
	}
	h.Set("Access-Control-Max-Age", "600")
	w.WriteHeader(http.StatusNoContent)
	return true
}
