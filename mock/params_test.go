package mock

import (
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/opsconform/opsconform/specs"
)

// TestParamChecksAgreeWithTheValidator: for every operation whose
// parameters skip the full validator, the compiled checks and the validator
// reach the same verdict on valid and invalid values of each parameter.
func TestParamChecksAgreeWithTheValidator(t *testing.T) {
	values := []string{"", "1", "0", "-1", "100", "101", "1000", "1001", "abc", "true", "false", "1.5", "Critical", "5980cfc70b6d97029d82e3f6", "x"}
	fast := 0
	for _, p := range embeddedProfiles(t) {
		v := specs.NewValidator(p)
		for _, op := range p.Operations {
			checks, ok := compileParams(op)
			if !ok {
				continue
			}
			fast++
			for _, c := range checks {
				if c.in != "query" {
					continue
				}
				for _, val := range values {
					q := url.Values{c.name: {val}}
					if val == "" {
						q = url.Values{}
					}
					path := op.Path
					for _, other := range op.Params {
						if other.In == "path" {
							path = strings.ReplaceAll(path, "{"+other.Name+"}", "5980cfc70b6d97029d82e3f6")
						}
					}
					r := httptest.NewRequest(op.Method, path+"?"+q.Encode(), nil)
					_, errs := v.ValidateHttpRequestSyncWithPathItem(r, op.PathItem, op.Template)
					full := ""
					for _, e := range errs {
						if e.ParameterName == c.name {
							full = e.Message
						}
					}
					got := c.judge(val)
					if val == "" {
						got = ""
						if c.required {
							got = "required"
						}
					}
					if (full == "") != (got == "") {
						t.Errorf("%s %s=%q: the validator says %q, the checks %q", op.ID, c.name, val, full, got)
					}
				}
			}
		}
	}
	if fast == 0 {
		t.Fatal("no operation takes the fast path: the test checks nothing")
	}
}
