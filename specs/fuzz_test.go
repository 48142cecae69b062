package specs

import (
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// FuzzLoad models any bytes as a spec. A truncated or mutated description
// gives an error that names the file, or a profile whose model holds
// together: a valid name, operations under the base path with unique ids
// and known methods, the auth mode's settings present, paging bounds in
// order. Never a panic. Seeds: every embedded spec, whole and cut at a
// third and two thirds, and every spec in testdata.
func FuzzLoad(f *testing.F) {
	for _, name := range EmbeddedFiles() {
		data, err := fs.ReadFile(Embedded(), name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
		f.Add(data[:len(data)/3])
		f.Add(data[:2*len(data)/3])
	}
	files, _ := filepath.Glob(filepath.Join("testdata", "*.yaml"))
	for _, file := range files {
		data, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := Load("fuzz.yaml", data)
		switch {
		case err != nil && p != nil:
			t.Fatalf("both a profile and an error: %v", err)
		case err != nil:
			if !strings.HasPrefix(err.Error(), "specs: fuzz.yaml") {
				t.Fatalf("the error does not name the file: %v", err)
			}
			return
		case p == nil:
			t.Fatal("neither a profile nor an error")
		}
		if !validName(p.Name) {
			t.Fatalf("profile name %q", p.Name)
		}
		ids := map[string]bool{}
		for _, op := range p.Operations {
			if op.ID == "" || ids[op.ID] {
				t.Fatalf("operation id %q missing or repeated", op.ID)
			}
			ids[op.ID] = true
			if !strings.HasPrefix(op.Path, p.BasePath) {
				t.Fatalf("%s: path %q is not under the base path %q", op.ID, op.Path, p.BasePath)
			}
			if !slices.Contains([]string{"GET", "PUT", "POST", "DELETE", "OPTIONS", "HEAD", "PATCH", "TRACE", "QUERY"}, op.Method) {
				t.Fatalf("%s: method %q", op.ID, op.Method)
			}
		}
		switch p.Auth.Mode {
		case AuthNone, AuthAPIKey, AuthBearer:
		case AuthDigest:
			if d := p.Auth.Digest; d == nil || len(d.Algorithms) == 0 || d.NonceLifetime <= 0 {
				t.Fatalf("digest mode without a usable policy: %+v", d)
			}
		default:
			t.Fatalf("auth mode %q", p.Auth.Mode)
		}
		if pg := p.Pagination; pg != nil {
			for _, b := range []Bound{pg.Page, pg.Skip, pg.Size} {
				if b.Param != "" && (b.Default < b.Min || b.Max > 0 && (b.Default > b.Max || b.Min > b.Max)) {
					t.Fatalf("paging bound %+v out of order", b)
				}
			}
		}
	})
}
