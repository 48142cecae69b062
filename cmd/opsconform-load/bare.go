package main

import (
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"

	"github.com/opsconform/opsconform/mock"
)

// capturedPage is one answer of the mock, kept to be served again by the
// bare handler, Prism and WireMock: the status is 200, the body and the
// headers are the mock's own.
type capturedPage struct {
	Name    string              `json:"name"` // profile
	Path    string              `json:"path"` // URL path the bare handler serves it at
	Target  string              `json:"target"`
	Header  map[string][]string `json:"header"`
	BodyRef string              `json:"body"` // file name beside the manifest
	body    []byte
}

// hopHeaders are the headers a server writes for itself, not part of the page.
var hopHeaders = map[string]bool{"Date": true, "Content-Length": true, "Connection": true, "Keep-Alive": true, "Transfer-Encoding": true}

// writeManifest stores pages in dir for the bare handler's process.
func writeManifest(dir string, pages []*capturedPage) (string, error) {
	for _, p := range pages {
		p.BodyRef = p.Name + ".json"
		if err := os.WriteFile(filepath.Join(dir, p.BodyRef), p.body, 0o644); err != nil {
			return "", fmt.Errorf("write page %s: %w", p.Name, err)
		}
	}
	b, err := json.MarshalIndent(pages, "", "  ")
	if err != nil {
		return "", err
	}
	path := filepath.Join(dir, "pages.json")
	return path, os.WriteFile(path, b, 0o644)
}

func readManifest(path string) ([]*capturedPage, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var pages []*capturedPage
	if err := json.Unmarshal(b, &pages); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	for _, p := range pages {
		if p.body, err = os.ReadFile(filepath.Join(filepath.Dir(path), p.BodyRef)); err != nil {
			return nil, fmt.Errorf("%s: page %s: %w", path, p.Name, err)
		}
	}
	return pages, nil
}

// bareHandler serves each page's bytes and headers at its path, as fast as
// net/http lets a handler write a byte slice: the limit the mock is
// measured against. It checks nothing; every other path is 404.
func bareHandler(pages []*capturedPage) http.Handler {
	type page struct {
		header map[string][]string
		length []string
		body   []byte
	}
	byPath := map[string]page{}
	for _, p := range pages {
		byPath[p.Path] = page{header: p.Header, length: []string{strconv.Itoa(len(p.body))}, body: p.body}
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, ok := byPath[r.URL.Path]
		if !ok {
			http.NotFound(w, r)
			return
		}
		h := w.Header()
		for k, v := range p.header {
			h[k] = v
		}
		h["Content-Length"] = p.length
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write(p.body)
	})
}

// serveBare is the bare handler's process: `opsconform-load bare ADDR MANIFEST`.
func serveBare(addr, manifest string) error {
	pages, err := readManifest(manifest)
	if err != nil {
		return fmt.Errorf("bare: %w", err)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("bare: %w", err)
	}
	// The mock's own http.Server, limits and timeouts included: only the handler differs.
	return mock.NewHTTPServer(bareHandler(pages)).Serve(ln)
}
