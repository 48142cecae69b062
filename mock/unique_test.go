package mock

import (
	"encoding/json"
	"fmt"
	"math"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/opsconform/opsconform/fixtures"
	"github.com/opsconform/opsconform/specs"
	"github.com/pb33f/libopenapi/datamodel/high/base"
)

// TestIdentifiersAreUnique: in every collection of every profile, fixtures
// and generated items alike, the id field, "id" and every property marked
// x-opsconform-unique hold a different value on each item (issue #12:
// Ivanti's IncidentNumber repeated among the 230 fixture incidents).
func TestIdentifiersAreUnique(t *testing.T) {
	marked := 0
	for _, p := range embeddedProfiles(t) {
		set, err := fixtures.Load(fixtures.Embedded(), p.Name)
		if err != nil {
			t.Fatal(err)
		}
		for _, seed := range []int64{1, 7, 12345} {
			ds, err := buildDataset(p, set, seed)
			if err != nil {
				t.Fatal(err)
			}
			for name, c := range ds.cols {
				u := newUniqueness(c.schema, c.idField)
				for _, f := range u.fields {
					if f != c.idField && f != "id" && seed == 1 {
						marked++
					}
					seen := map[string]int{}
					for i, rec := range c.items {
						v := fmt.Sprint(rec.fields[f])
						if j, dup := seen[v]; dup {
							t.Errorf("%s seed %d: %s items %d and %d share %s %s", p.Name, seed, name, j, i, f, v)
						}
						seen[v] = i
					}
				}
			}
		}
	}
	if marked < 4 {
		t.Errorf("only %d properties marked x-opsconform-unique were checked: IncidentNumber, ChangeNumber, number and name at least", marked)
	}
}

// TestCreatesTakeTheNextNumber: 800 incidents created through the API each
// get the next incident number, and a deleted incident's number is not
// handed out again (issue #12: 37 duplicates in 800 creates).
func TestCreatesTakeTheNextNumber(t *testing.T) {
	h := newHarness(t)
	p := profileNamed(t, "ivanti-ism")
	hdr, _ := fixtureCredentials(t, p, "full")
	profileLink := strings.Repeat("A", 32)
	path := "/api/odata/businessobject/incidents"
	create := func(i int) map[string]any {
		t.Helper()
		if i%400 == 399 {
			h.clock.Advance(time.Minute) // a fresh rate-limit window: this test is about numbers
		}
		st, _, body := h.do("POST", path, hdr, fmt.Sprintf(`{"Subject":"incident %d","ProfileLink_RecID":%q}`, i, profileLink))
		if st != 201 {
			t.Fatalf("create %d: %d %s", i, st, body)
		}
		var item map[string]any
		if err := json.Unmarshal(body, &item); err != nil {
			t.Fatal(err)
		}
		return item
	}
	highest := 0.0
	for _, rec := range h.srv.dataset(p.Name).cols["incidents"].items {
		n, _ := asInt(rec.fields["IncidentNumber"])
		highest = math.Max(highest, float64(n))
	}
	var last map[string]any
	for i := range 800 {
		item := create(i)
		n := item["IncidentNumber"].(float64)
		if n != highest+1 {
			t.Fatalf("create %d: IncidentNumber %v, want the next free number %v", i, n, highest+1)
		}
		highest, last = n, item
	}
	if st, _, body := h.do("DELETE", path+"('"+last["RecId"].(string)+"')", hdr, ""); st != 204 {
		t.Fatalf("delete: %d %s", st, body)
	}
	if n := create(800)["IncidentNumber"].(float64); n != highest+1 {
		t.Errorf("after deleting number %v, the next create got %v, want %v: numbers are not reused", highest, n, highest+1)
	}
}

// TestFixtureDuplicatesRefused: two listed fixture items with the same
// marked property are an error naming the item, the property and the value.
func TestFixtureDuplicatesRefused(t *testing.T) {
	p := profileNamed(t, "opsmerge")
	fsys := fstest.MapFS{"opsmerge.yaml": {Data: []byte(`collections:
  tickets:
    items:
      - {number: 42, subject: first}
      - {number: 42, subject: second}
`)}}
	_, err := New(Options{Profiles: []*specs.Profile{p}, Fixtures: fsys})
	if err == nil || !strings.Contains(err.Error(), `collection tickets: items[1]: number "42" is used twice`) {
		t.Errorf("err = %v, want one naming items[1] and number 42", err)
	}
}

func TestNextNumber(t *testing.T) {
	lo, hi := 1.0, 5.0
	s := &base.Schema{Type: []string{"integer"}, Minimum: &lo, Maximum: &hi}
	tests := []struct {
		name  string
		used  []int64
		own   any
		want  int64
		found bool
	}{
		{"nothing given: the item's own value", nil, 3, 3, true},
		{"nothing given, no value: the minimum", nil, "x", 1, true},
		{"one past the highest", []int64{1, 2}, 1, 3, true},
		{"past the maximum: the lowest free", []int64{2, 5}, 2, 1, true},
		{"all taken", []int64{1, 2, 3, 4, 5}, 1, 0, false},
	}
	for _, tt := range tests {
		u := &uniqueness{fields: []string{"n"}, schemas: map[string]*base.Schema{"n": s}, counted: map[string]bool{"n": true},
			used: map[string]map[string]bool{"n": {}}, highest: map[string]int64{"n": math.MinInt64}}
		for _, n := range tt.used {
			u.take("n", n)
		}
		got, ok := u.nextNumber("n", tt.own)
		if got != tt.want || ok != tt.found {
			t.Errorf("%s: %d %v, want %d %v", tt.name, got, ok, tt.want, tt.found)
		}
	}
}
