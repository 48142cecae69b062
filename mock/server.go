// Package mock serves the documented behaviour of the loaded profiles over HTTP.
package mock

import (
	"encoding/json"
	"net/http"
	"strings"

	"github.com/opsconform/opsconform/specs"
)

// ControlPrefix is where the mock's own control API lives, like WireMock's /__admin.
const ControlPrefix = "/__opsconform/"

// Server is a mock of one or more profiles on one listener.
type Server struct {
	profiles []*specs.Profile
	mux      *http.ServeMux
}

// New builds a Server for the given profiles.
func New(profiles []*specs.Profile) *Server {
	s := &Server{profiles: profiles, mux: http.NewServeMux()}
	s.mux.HandleFunc("GET "+ControlPrefix+"health", s.health)
	s.mux.HandleFunc("GET "+ControlPrefix+"profiles", s.listProfiles)
	return s
}

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if strings.HasPrefix(r.URL.Path, ControlPrefix) {
		s.mux.ServeHTTP(w, r)
		return
	}
	writeJSON(w, http.StatusNotFound, map[string]string{"error": "no operation is served at " + r.URL.Path})
}

func (s *Server) health(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

type profileInfo struct {
	Name       string   `json:"name"`
	Title      string   `json:"title"`
	BasePath   string   `json:"basePath"`
	Auth       string   `json:"auth"`
	Envelope   string   `json:"envelope"`
	Pagination string   `json:"pagination"`
	RateLimits string   `json:"rateLimits"`
	Operations []string `json:"operations"`
}

func (s *Server) listProfiles(w http.ResponseWriter, _ *http.Request) {
	out := make([]profileInfo, 0, len(s.profiles))
	for _, p := range s.profiles {
		info := profileInfo{Name: p.Name, Title: p.Title, BasePath: p.BasePath, Auth: p.Auth.Describe(),
			Envelope: p.DescribeEnvelope(), Pagination: p.Pagination.Describe(), RateLimits: p.RateLimits.Describe()}
		for _, o := range p.Operations {
			info.Operations = append(info.Operations, o.Method+" "+o.Path)
		}
		out = append(out, info)
	}
	writeJSON(w, http.StatusOK, out)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
