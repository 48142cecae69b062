package main

import (
	"path/filepath"
	"reflect"
	"testing"

	"github.com/opsconform/opsconform/specs"
)

// TestSelectionModelsOnlyWhatItNames: a mock of one vendor, or of a --spec
// alone, must not model (and keep the garbage of) the other embedded
// descriptions; each is megabytes of libopenapi's model.
func TestSelectionModelsOnlyWhatItNames(t *testing.T) {
	petstore := filepath.Join("..", "..", "specs", "testdata", "corpus", "petstore-30.yaml")
	tests := []struct {
		name     string
		sel      selection
		modelled [][]string // the names each LoadEmbedded call was asked for
		got      []string   // the profiles selected
	}{
		{name: "default", sel: selection{}, modelled: [][]string{nil}, got: specs.EmbeddedNames()},
		{name: "one profile", sel: selection{profiles: []string{"opsmerge"}}, modelled: [][]string{{"opsmerge"}}, got: []string{"opsmerge"}},
		{name: "two, in the order named", sel: selection{profiles: []string{"opsmerge", " opmanager"}}, modelled: [][]string{{"opsmerge", "opmanager"}}, got: []string{"opsmerge", "opmanager"}},
		{name: "a spec alone", sel: selection{specs: []string{petstore}}, modelled: nil, got: []string{"petstore-30"}},
		{name: "a spec by its name", sel: selection{specs: []string{petstore}, profiles: []string{"petstore-30"}}, modelled: nil, got: []string{"petstore-30"}},
		{name: "a spec and a profile", sel: selection{specs: []string{petstore}, profiles: []string{"ivanti-ism"}}, modelled: [][]string{{"ivanti-ism"}}, got: []string{"ivanti-ism", "petstore-30"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var modelled [][]string
			loadEmbedded = func(names ...string) ([]*specs.Profile, error) {
				modelled = append(modelled, names)
				return specs.LoadEmbedded(names...)
			}
			defer func() { loadEmbedded = specs.LoadEmbedded }()
			ps, err := tt.sel.load()
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, p := range ps {
				got = append(got, p.Name)
			}
			if !reflect.DeepEqual(got, tt.got) {
				t.Errorf("selected %v, want %v", got, tt.got)
			}
			if !reflect.DeepEqual(modelled, tt.modelled) {
				t.Errorf("embedded descriptions modelled: %q, want %q", modelled, tt.modelled)
			}
		})
	}
}
