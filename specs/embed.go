package specs

import (
	"embed"
	"fmt"
	"io/fs"
	"sort"
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

// LoadEmbedded models every embedded description. The descriptions are
// independent, so they are modelled at once, one goroutine each (the
// mock's start-up waits for the largest, not for the sum); the profiles
// and the first error come in file order, as when they were read in turn.
func LoadEmbedded() ([]*Profile, error) {
	names := EmbeddedFiles()
	out := make([]*Profile, len(names))
	errs := make([]error, len(names))
	var wg sync.WaitGroup
	for i, name := range names {
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
