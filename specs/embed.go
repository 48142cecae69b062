package specs

import (
	"embed"
	"fmt"
	"io/fs"
	"sort"
	"strings"
	"sync"
)

//go:embed *.yaml
var embedded embed.FS

// Embedded is the file system of the descriptions built into the binary.
func Embedded() fs.FS { return embedded }

// EmbeddedFiles lists the embedded descriptions' file names, sorted.
func EmbeddedFiles() []string {
	names, _ := fs.Glob(embedded, "*.yaml")
	sort.Strings(names)
	return names
}

// EmbeddedNames lists the embedded profiles' names, each its file's name
// (TestEmbeddedNamesAreTheirFiles), in file order: what --profile accepts
// without modelling a description.
func EmbeddedNames() []string {
	var out []string
	for _, f := range EmbeddedFiles() {
		out = append(out, nameFromFile(f))
	}
	return out
}

// LoadEmbedded models the embedded descriptions named, or every one when
// none is; a name that is not embedded is an error. A process serving one
// vendor thus keeps one model, not four (each is megabytes of libopenapi's).
// The descriptions are independent, so they are modelled at once, one
// goroutine each (the mock's start-up waits for the largest, not for the
// sum); the profiles and the first error come in file order, as when they
// were read in turn.
func LoadEmbedded(names ...string) ([]*Profile, error) {
	files := EmbeddedFiles()
	if len(names) > 0 {
		wanted := map[string]bool{}
		for _, n := range names {
			wanted[n] = true
		}
		var picked []string
		for _, f := range files {
			if wanted[nameFromFile(f)] {
				picked = append(picked, f)
				delete(wanted, nameFromFile(f))
			}
		}
		for _, n := range names {
			if wanted[n] {
				return nil, fmt.Errorf("specs: no embedded profile %q (embedded: %s)", n, strings.Join(EmbeddedNames(), ", "))
			}
		}
		files = picked
	}
	out := make([]*Profile, len(files))
	errs := make([]error, len(files))
	var wg sync.WaitGroup
	for i, name := range files {
		wg.Go(func() {
			data, err := fs.ReadFile(embedded, name)
			if err != nil {
				errs[i] = fmt.Errorf("specs: %s: %w", name, err)
				return
			}
			out[i], errs[i] = Load(name, data)
			if out[i] != nil {
				out[i].Embedded = true
			}
		})
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}
