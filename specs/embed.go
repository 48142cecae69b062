package specs

import (
	"embed"
	"fmt"
	"io/fs"
	"sort"
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

// LoadEmbedded models every embedded description.
func LoadEmbedded() ([]*Profile, error) {
	var out []*Profile
	for _, name := range EmbeddedFiles() {
		data, err := fs.ReadFile(embedded, name)
		if err != nil {
			return nil, fmt.Errorf("specs: %s: %w", name, err)
		}
		p, err := Load(name, data)
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, nil
}
