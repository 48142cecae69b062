package odata

import (
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"
)

var incidents = []map[string]any{
	{"IncidentNumber": 1, "Status": "Active", "Priority": "1", "Subject": "Disk full on db-01", "Owner": nil, "Urgent": true},
	{"IncidentNumber": 2, "Status": "Resolved", "Priority": "3", "Subject": "Printer jam", "Owner": "ann", "Urgent": false},
	{"IncidentNumber": json.Number("3"), "Status": "Active", "Priority": "2", "Subject": "VPN's down", "Owner": "bob", "Urgent": false},
	{"IncidentNumber": 4.0, "Status": "Closed", "Priority": "5", "Subject": "New laptop", "Owner": "ann", "Urgent": false},
}

func known(p string) bool { _, ok := incidents[0][p]; return ok }

func numbers(f *Filter) []int {
	var out []int
	for _, it := range incidents {
		if f.Match(it) {
			n, _ := number(it["IncidentNumber"])
			out = append(out, int(n))
		}
	}
	return out
}

func TestFilter(t *testing.T) {
	tests := []struct {
		expr string
		want []int
	}{
		{"Status eq 'Active'", []int{1, 3}},
		{"Status ne 'Active'", []int{2, 4}},
		{"IncidentNumber gt 2", []int{3, 4}},
		{"IncidentNumber ge 2 and IncidentNumber le 3", []int{2, 3}},
		{"IncidentNumber lt 2 or Status eq 'Closed'", []int{1, 4}},
		{"not (Status eq 'Active')", []int{2, 4}},
		{"Status eq 'Active' and (Priority eq '1' or Priority eq '2')", []int{1, 3}},
		{"Owner eq null", []int{1}},
		{"Owner ne null and Owner eq 'ann'", []int{2, 4}},
		{"Urgent eq true", []int{1}},
		{"Urgent", []int(nil)}, // a bare property is not a condition: refused below
		{"Subject eq 'VPN''s down'", []int{3}},
		{"contains(Subject, 'db')", []int{1}},
		{"startswith(Subject,'New') or endswith(Subject, 'jam')", []int{2, 4}},
		{"STATUS eq 'Active'", nil}, // property names are case-sensitive: unknown
		{"Status EQ 'Active' AND Priority eq '1'", []int{1}},
		{"Priority gt 2", []int(nil)}, // a string against a number: like with like only
		{"Priority gt '2'", []int{2, 4}},
		{"IncidentNumber eq -1", []int(nil)},
		{"true", []int{1, 2, 3, 4}},
	}
	for _, tt := range tests {
		f, err := ParseFilter(tt.expr, known)
		if tt.expr == "Urgent" || tt.expr == "STATUS eq 'Active'" {
			if err == nil {
				t.Errorf("%q parsed; want an error", tt.expr)
			}
			continue
		}
		if err != nil {
			t.Errorf("%q: %v", tt.expr, err)
			continue
		}
		if got := numbers(f); !slices.Equal(got, tt.want) {
			t.Errorf("%q matches %v, want %v", tt.expr, got, tt.want)
		}
	}
}

func TestFilterErrorsSayWhatAndWhere(t *testing.T) {
	tests := []struct{ expr, want string }{
		{"", "empty"},
		{"Status eq", "ends too soon"},
		{"Status eq 'Active", "not closed"},
		{"(Status eq 'Active'", "want )"},
		{"Status in ('Active')", `"in" is not supported`},
		{"Priority add 1 eq 2", `"add" is not supported`},
		{"length(Subject) eq 3", `function "length" is not supported`},
		{"Owner/Name eq 'x'", "not paths"},
		{"Nope eq 1", `unknown property "Nope"`},
		{"Status eq 'a' xor Status eq 'b'", `unexpected "xor"`},
		{"Status eq 'a' #", "unexpected character"},
		{"contains(Subject)", "takes 2 arguments"},
		{"not 'x'", "needs a condition"},
	}
	for _, tt := range tests {
		_, err := ParseFilter(tt.expr, known)
		var oe *Error
		if !errors.As(err, &oe) || !strings.Contains(err.Error(), tt.want) || !strings.HasPrefix(err.Error(), "$filter: at ") {
			t.Errorf("%q: %v, want an error naming %s", tt.expr, err, tt.want)
		}
	}
}

func TestOrderByAndSelect(t *testing.T) {
	o, err := ParseOrderBy("Owner desc, IncidentNumber", known)
	if err != nil {
		t.Fatal(err)
	}
	items := slices.Clone(incidents)
	slices.SortStableFunc(items, o.Compare)
	var got []string
	for _, it := range items {
		n, _ := number(it["IncidentNumber"])
		got = append(got, string(rune('0'+int(n))))
	}
	if strings.Join(got, "") != "3241" { // bob, ann(2), ann(4), then nil last when descending
		t.Errorf("ordered %v", got)
	}
	for _, bad := range []string{"Nope", "Status sideways", "Status asc desc", "", "Owner/Name"} {
		if _, err := ParseOrderBy(bad, known); err == nil {
			t.Errorf("$orderby %q parsed", bad)
		}
	}
	sel, err := ParseSelect("Status, Subject", known)
	if err != nil {
		t.Fatal(err)
	}
	if p := Project(incidents[0], sel); len(p) != 2 || p["Status"] != "Active" {
		t.Errorf("projected %v", p)
	}
	for _, bad := range []string{"Nope", "Status,", "Owner/Name"} {
		if _, err := ParseSelect(bad, known); err == nil {
			t.Errorf("$select %q parsed", bad)
		}
	}
}

// FuzzParseFilter: any input either parses into a filter whose Match is
// total (no panic) and deterministic on every item, or is an *Error whose
// position lies within the input.
func FuzzParseFilter(f *testing.F) {
	for _, seed := range []string{"Status eq 'Active'", "not (a eq 1) or contains(b,'x')", "''", "(((", "IncidentNumber ge -1.5e3", "x eq 'it''s'"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, expr string) {
		flt, err := ParseFilter(expr, nil)
		if err != nil {
			var oe *Error
			if !errors.As(err, &oe) || oe.Pos < 0 || oe.Pos > len(expr) {
				t.Fatalf("%q: error %v without a position inside the input", expr, err)
			}
			return
		}
		again, err := ParseFilter(expr, nil)
		if err != nil {
			t.Fatalf("%q parsed once and failed the second time: %v", expr, err)
		}
		for _, it := range incidents {
			if flt.Match(it) != again.Match(it) {
				t.Fatalf("%q matches %v inconsistently", expr, it)
			}
		}
	})
}
