package suites

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/opsconform/opsconform/reports"
	"github.com/opsconform/opsconform/specs"
)

// Check is one requirement and the function that checks it.
type Check struct {
	ID        string
	Group     string
	Statement string
	Citation  string
	level     reports.Level // MUST unless set
	run       func(*T)
	// overCredentials marks a check that asserts on as much as the
	// credentials allow (every credential it is given, every operation whose
	// items it can find): without one credential it still exercises its
	// assertion on the rest, and it skips when nothing is left.
	overCredentials bool
}

// Requirement is the check as the reports name it.
func (c *Check) Requirement() reports.Requirement {
	lvl := c.level
	if lvl == "" {
		lvl = reports.Must
	}
	return reports.Requirement{ID: c.ID, Group: c.Group, Statement: c.Statement, Level: lvl, Citation: c.Citation}
}

// groupCodes name the groups inside requirement IDs.
var groupCodes = map[string]string{
	"auth": "AUTH", "lifecycle": "LIFE", "envelope": "ENV", "pagination": "PAGE",
	"schema": "SCHEMA", "stability": "STAB", "data": "DATA", "rate-limits": "RATE", "generic": "GEN",
}

// Catalogue is every requirement the profile's documented behaviour calls
// for, in the order they run (rate limits last: they spend budgets). IDs are
// stable: each kind of check has a fixed number within its group, the same
// on every profile (a profile without the behaviour simply lacks that ID),
// and schema and stability checks are named by operation.
func Catalogue(p *specs.Profile) []*Check {
	prefix := strings.ToUpper(p.Name)
	var all []*Check
	groups := [][]*Check{authChecks(p), lifecycleChecks(p), envelopeChecks(p), pagingChecks(p), schemaChecks(p), stabilityChecks(p), dataChecks(p), rateChecks(p)}
	if !p.Extended {
		// A plain OpenAPI file documents no vendor behaviour: it gets the
		// requirements any description implies (suites/generic.go).
		groups = [][]*Check{genericChecks(p)}
	}
	for _, group := range groups {
		for i, c := range group {
			if c.ID == "" {
				c.ID = fmt.Sprintf("%03d", i+1)
			}
			c.ID = prefix + "-" + groupCodes[c.Group] + "-" + c.ID
			run := c.run
			c.run = func(t *T) {
				defer t.finish()
				run(t)
			}
			all = append(all, c)
		}
	}
	return all
}

// schemaChecks check each safe operation's answer against its spec.
func schemaChecks(p *specs.Profile) []*Check {
	var checks []*Check
	for _, op := range p.Operations {
		if op.Method != http.MethodGet {
			continue
		}
		op := op
		checks = append(checks, &Check{
			ID: op.ID, Group: "schema", Citation: fmt.Sprintf("%s, %s %s", p.File, op.Method, op.Template),
			Statement: fmt.Sprintf("%s %s answers 2xx with a body its spec documents", op.Method, op.Path),
			run:       func(t *T) { checkSchema(t, op) },
		})
	}
	return checks
}

func checkSchema(t *T, op *specs.Operation) {
	e := t.env
	extra := map[string]string{}
	if r := op.Resource; r != nil && r.ID != "" && e.creds.Params[r.ID] == "" {
		extra[r.ID] = t.firstID(op)
	}
	if !fillableWith(e, op, extra) {
		t.Skipf("the credentials' params do not fill every parameter of %s", op.ID)
	}
	path := e.path(op, extra)
	resp, body := t.Raw(t.Client("full"), op.Method, path, nil, "")
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		t.Fatalf("2xx", fmt.Sprint(resp.StatusCode), "%s %s failed: %s", op.Method, path, truncate(body))
	}
	req, _ := http.NewRequest(op.Method, path, nil)
	resp.Body = io.NopCloser(bytes.NewReader(body))
	if ok, errs := e.profile.Validator(op).GetResponseBodyValidator().ValidateResponseBodyWithPathItem(req, resp, op.PathItem, op.Template); !ok && len(errs) > 0 {
		v := errs[0]
		reason := v.Message
		if len(v.SchemaValidationErrors) > 0 {
			f := v.SchemaValidationErrors[0]
			reason = fmt.Sprintf("%s: %s %s", v.Message, f.FieldPath, f.Reason)
		}
		t.Errorf("a body valid against the spec", string(truncate(body)), "%s", reason)
	}
}
