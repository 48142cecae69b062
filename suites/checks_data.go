package suites

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"

	"github.com/gavv/httpexpect/v2"
	"github.com/opsconform/opsconform/specs"
)

const httpexpectSuccess = httpexpect.Status2xx

func envelopeChecks(p *specs.Profile) []*Check {
	checks := []*Check{
		{ID: "001", Statement: "Successful responses are JSON in the documented success envelope", run: checkSuccessEnvelope},
		{ID: "002", Statement: "Errors for a missing resource are JSON in the documented error envelope", run: checkErrorEnvelope},
	}
	if p.Envelope.EnvelopeParam != "" {
		checks = append(checks,
			&Check{ID: "003", Statement: "With " + p.Envelope.EnvelopeParam + "=true a single resource comes as {status, content} and a list gains status, under HTTP 200", run: checkEnvelopeParam},
			&Check{ID: "004", Statement: "With " + p.Envelope.EnvelopeParam + "=true an error comes as {status, content} under HTTP 200", run: checkEnvelopeParamError},
		)
	}
	if requiredHeaderOps(p) != nil {
		checks = append(checks, &Check{ID: "005", Statement: "Successful responses carry the headers the spec marks required, in their documented form (" + strings.Join(requiredHeaderNames(p), ", ") + ")", run: checkRequiredHeaders})
	}
	checks = append(checks, &Check{ID: "007", Statement: "A path under the API that no operation serves answers 404 in the error envelope", run: checkUnknownPath})
	if requiredQueryOp(p) != nil {
		checks = append(checks, &Check{ID: "008", Statement: "A request without a required parameter is refused with 400 in the error envelope", run: checkMissingRequiredParam})
	}
	if p.ClosedCreate() != nil {
		checks = append(checks, &Check{ID: "006", Statement: "A request body with a field the schema does not know is refused with 400 in the error envelope, not ignored", run: checkUnknownBodyField})
	}
	checks = append(checks, recordChecks(p)...)
	for _, c := range checks {
		c.Group, c.Citation = "envelope", p.Cite("envelope")
	}
	return checks
}

// checkSuccessEnvelope: every safe operation the credentials can call
// answers JSON in the success envelope.
func checkSuccessEnvelope(t *T) {
	e := t.env
	for _, op := range e.profile.Operations {
		if op.Method != http.MethodGet || op.Public || !e.fillable(op) {
			continue
		}
		resp, body := t.Raw(t.Client("full"), op.Method, e.path(op, nil), nil, "")
		if resp.StatusCode < 200 || resp.StatusCode > 299 {
			t.Fatalf("2xx", fmt.Sprint(resp.StatusCode), "%s failed: %s", op.ID, truncate(body))
		}
		if ct := resp.Header.Get("Content-Type"); !isJSON(ct) {
			t.Fatalf("a JSON content type", ct, "%s does not answer JSON", op.ID)
		}
		var v any
		if err := json.Unmarshal(body, &v); err != nil {
			t.Fatalf("JSON", string(truncate(body)), "%s's body is not JSON: %v", op.ID, err)
		}
		if f := e.profile.Envelope.Success; f != "" {
			if m, ok := v.(map[string]any); !ok || m[f] == nil {
				t.Fatalf(fmt.Sprintf(`{"%s": …}`, f), string(truncate(body)), "%s's answer is not wrapped in %q", op.ID, f)
			}
		}
	}
	if e.probe() == nil {
		t.Skipf("no safe operation the credentials can call")
	}
}

// checkUnknownPath asks for an endpoint no operation serves, under the
// prefix the profile's operations share.
func checkUnknownPath(t *T) {
	e := t.env
	op := e.probe()
	if op == nil {
		t.Skipf("no operation the credentials can call")
	}
	base := e.profile.BasePath
	if base == "" {
		base = op.Path[:strings.LastIndex(op.Path, "/")]
	}
	resp, body := t.Raw(t.Client("full"), http.MethodGet, base+"/opsconform-no-such-endpoint", nil, "")
	expectError(t, resp, body, specs.NotFound, e.profile.Errors.Spec(specs.NotFound).Status)
}

// requiredQueryOp is a safe operation with a required query parameter.
func requiredQueryOp(p *specs.Profile) *specs.Operation {
	for _, op := range p.Operations {
		if op.Method != http.MethodGet {
			continue
		}
		for _, prm := range op.Params {
			if prm.In == "query" && prm.Required {
				return op
			}
		}
	}
	return nil
}

// checkMissingRequiredParam leaves out every required query parameter of an
// operation that has one.
func checkMissingRequiredParam(t *T) {
	e := t.env
	op := requiredQueryOp(e.profile)
	path := op.Path
	for _, prm := range op.Params {
		if prm.In == "path" {
			v := e.creds.Params[prm.Name]
			if v == "" {
				t.Skipf("the credentials give no value for %s's path parameter %s", op.ID, prm.Name)
			}
			path = strings.ReplaceAll(path, "{"+prm.Name+"}", url.PathEscape(v))
		}
	}
	resp, body := t.Raw(t.Client("full"), op.Method, path, nil, "")
	expectError(t, resp, body, specs.InvalidParameter, e.profile.Errors.Spec(specs.InvalidParameter).Status)
}

// checkErrorEnvelope asks for an item that does not exist.
func checkErrorEnvelope(t *T) {
	e := t.env
	op, extra := missingItem(e)
	if op == nil {
		t.Skipf("no get-by-id operation whose other parameters the credentials fill")
	}
	resp, body := t.Raw(t.Client("full"), op.Method, e.path(op, extra), nil, "")
	expectError(t, resp, body, specs.NotFound, e.profile.Errors.Spec(specs.NotFound).Status)
}

func fillableWith(e *env, op *specs.Operation, extra map[string]string) bool {
	for _, p := range op.Params {
		if (p.Required || p.In == "path") && e.creds.Params[p.Name] == "" && extra[p.Name] == "" {
			return false
		}
	}
	return true
}

// nonexistentID is an id in the parameter's own format that no item has.
func nonexistentID(op *specs.Operation, name string) string {
	p := op.Param("path", name)
	if p == nil {
		p = op.Param("query", name)
	}
	if p != nil && p.Schema != nil {
		switch {
		case p.Schema.Format == "uuid":
			return "00000000-0000-4000-8000-000000000000"
		case strings.Contains(p.Schema.Pattern, "0-9A-F") && strings.Contains(p.Schema.Pattern, "{32}"):
			return strings.Repeat("0", 32)
		case strings.Contains(p.Schema.Pattern, "{24}"):
			return strings.Repeat("0", 24)
		case strings.Contains(p.Schema.Pattern, "0-9"):
			return "999999999"
		}
	}
	return "opsconform-no-such-item"
}

// checkEnvelopeParam: envelope=true wraps a single resource as {status,
// content} and adds status to a list, always under HTTP 200.
func checkEnvelopeParam(t *T) {
	e := t.env
	param := e.profile.Envelope.EnvelopeParam
	checked := 0
	for _, op := range e.profile.Operations {
		r := op.Resource
		if op.Method != http.MethodGet || r == nil || op.Param("query", param) == nil {
			continue
		}
		extra := map[string]string{}
		if r.Action == specs.ActionGet && r.ID != "" && e.creds.Params[r.ID] == "" {
			id, ok := t.tryFirstID(op)
			if !ok {
				continue
			}
			extra[r.ID] = id
		}
		if !fillableWith(e, op, extra) {
			continue
		}
		path := e.path(op, extra)
		_, plain := t.Raw(t.Client("full"), op.Method, path, nil, "")
		resp, body := t.Raw(t.Client("full"), op.Method, withQuery(path, param, "true"), nil, "")
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("200", fmt.Sprint(resp.StatusCode), "%s with %s=true", op.ID, param)
		}
		var got map[string]any
		if err := json.Unmarshal(body, &got); err != nil {
			t.Fatalf("a JSON object", string(truncate(body)), "%s with %s=true is not a JSON object", op.ID, param)
		}
		if n, ok := intField(got, "status"); !ok || n != http.StatusOK {
			t.Fatalf(`"status": 200`, fmt.Sprint(got["status"]), "%s with %s=true does not carry its status", op.ID, param)
		}
		var want map[string]any
		_ = json.Unmarshal(plain, &want)
		if op.Paginated {
			if _, has := got[e.profile.Pagination.Response.Items]; !has {
				t.Fatalf("the list's own fields with status added", string(truncate(body)), "%s with %s=true lost its %s", op.ID, param, e.profile.Pagination.Response.Items)
			}
		} else if c, ok := got["content"].(map[string]any); !ok || fmt.Sprint(c["id"]) != fmt.Sprint(want["id"]) {
			t.Fatalf(`{"status": 200, "content": <the resource>}`, string(truncate(body)), "%s with %s=true does not wrap the resource as content", op.ID, param)
		}
		checked++
	}
	if checked < 2 {
		t.Skipf("the credentials fill too few operations that take %s", param)
	}
}

// checkEnvelopeParamError: under envelope=true an error is a 200 whose body
// carries the error's status and its envelope as content.
func checkEnvelopeParamError(t *T) {
	e := t.env
	param := e.profile.Envelope.EnvelopeParam
	op, extra := missingItem(e)
	if op == nil {
		t.Skipf("no get-by-id operation whose other parameters the credentials fill")
	}
	resp, body := t.Raw(t.Client("full"), op.Method, withQuery(e.path(op, extra), param, "true"), nil, "")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("200", fmt.Sprint(resp.StatusCode), "a missing %s with %s=true must still answer HTTP 200", op.ID, param)
	}
	var got map[string]any
	_ = json.Unmarshal(body, &got)
	want := e.profile.Errors.Spec(specs.NotFound).Status
	if n, ok := intField(got, "status"); !ok || n != want {
		t.Fatalf(fmt.Sprintf(`"status": %d`, want), fmt.Sprint(got["status"]), "the enveloped error does not carry its status")
	}
	content, _ := json.Marshal(got["content"])
	if err := e.profile.Errors.Match(specs.NotFound, content); err != nil {
		t.Fatalf("the error envelope as content", string(truncate(body)), "%v", err)
	}
}

// missingItem is a get-by-id operation and parameters naming an item that does not exist.
func missingItem(e *env) (*specs.Operation, map[string]string) {
	for _, op := range e.profile.Operations {
		r := op.Resource
		if op.Method != http.MethodGet || r == nil || r.Action != specs.ActionGet || r.ID == "" || e.creds.Params[r.ID] != "" {
			continue
		}
		extra := map[string]string{r.ID: nonexistentID(op, r.ID)}
		if fillableWith(e, op, extra) {
			return op, extra
		}
	}
	return nil, nil
}

// requiredHeaderOps are the operations whose successes must carry headers.
func requiredHeaderOps(p *specs.Profile) []*specs.Operation {
	var out []*specs.Operation
	for _, op := range p.Operations {
		if len(specs.RequiredHeaders(op)) > 0 {
			out = append(out, op)
		}
	}
	return out
}

func requiredHeaderNames(p *specs.Profile) []string {
	seen := map[string]bool{}
	var out []string
	for _, op := range requiredHeaderOps(p) {
		for _, h := range specs.RequiredHeaders(op) {
			if !seen[h.Name] {
				seen[h.Name] = true
				out = append(out, h.Name)
			}
		}
	}
	return out
}

// checkRequiredHeaders: every safe operation that documents required
// response headers sends them, matching their schema's pattern.
func checkRequiredHeaders(t *T) {
	e := t.env
	checked := 0
	for _, op := range requiredHeaderOps(e.profile) {
		if op.Method != http.MethodGet || !e.fillable(op) {
			continue
		}
		resp, body := t.Raw(t.Client("full"), op.Method, e.path(op, nil), nil, "")
		if resp.StatusCode < 200 || resp.StatusCode > 299 {
			t.Fatalf("2xx", fmt.Sprint(resp.StatusCode), "%s failed: %s", op.ID, truncate(body))
		}
		for _, h := range specs.RequiredHeaders(op) {
			v := resp.Header.Get(h.Name)
			if v == "" {
				t.Fatalf(h.Name, "absent", "%s's answer lacks %s", op.ID, h.Name)
			}
			if h.Schema != nil && h.Schema.Pattern != "" {
				if re, err := regexp.Compile(h.Schema.Pattern); err == nil && !re.MatchString(v) {
					t.Fatalf(h.Schema.Pattern, v, "%s's %s is not in its documented form", op.ID, h.Name)
				}
			}
		}
		checked++
	}
	if checked == 0 {
		t.Skipf("no safe operation with required headers whose parameters the credentials fill")
	}
}

// checkUnknownBodyField creates an item with one field too many: a server
// that ignores it would silently drop what a client meant to set.
func checkUnknownBodyField(t *T) {
	e := t.env
	op := e.profile.ClosedCreate()
	if !e.fillable(op) {
		t.Skipf("the credentials do not fill %s's parameters", op.ID)
	}
	var body map[string]any
	_ = json.Unmarshal([]byte(validBody(op.Body.Schema)), &body)
	body["opsconformUnknownField"] = true
	raw, _ := json.Marshal(body)
	resp, data := t.Raw(t.Client("full"), op.Method, e.path(op, nil), nil, string(raw))
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		t.forget(data)
		t.removeCreated(op, data)
	}
	expectError(t, resp, data, specs.InvalidBody, e.profile.Errors.Spec(specs.InvalidBody).Status)
}

func stabilityChecks(p *specs.Profile) []*Check {
	var checks []*Check
	for _, op := range p.Operations {
		if !op.Deprecated {
			continue
		}
		op := op
		checks = append(checks, &Check{
			ID: op.ID, Group: "stability", Citation: p.Cite("stability"),
			Statement: fmt.Sprintf("The deprecated operation %s sends Deprecation and Sunset headers", op.ID),
			run: func(t *T) {
				e := t.env
				extra := map[string]string{}
				if r := op.Resource; r != nil && r.ID != "" {
					extra[r.ID] = t.firstID(op)
				}
				resp := t.Request("full", op.Method, e.path(op, extra)).Expect()
				resp.StatusRange(httpexpectSuccess)
				resp.Header("Deprecation").NotEmpty()
				resp.Header("Sunset").NotEmpty()
			},
		})
	}
	return checks
}

// firstID finds an existing item for an operation on one item: the first
// item of the list operation of the same collection.
func (t *T) firstID(op *specs.Operation) string {
	e := t.env
	r := op.Resource
	for _, l := range e.profile.Operations {
		lr := l.Resource
		if lr == nil || lr.Action != specs.ActionList || lr.Collection != r.Collection || lr.Source != r.Source || !e.fillable(l) {
			continue
		}
		resp, body := t.Raw(t.Client("full"), l.Method, e.path(l, nil), nil, "")
		if resp.StatusCode != 200 {
			continue
		}
		items, err := e.listItems(l, body)
		if err != nil {
			continue
		}
		if len(items) > 0 && items[0][r.Field] != nil {
			return fmt.Sprint(items[0][r.Field])
		}
	}
	t.Skipf("no list of %s to find an existing item in", r.Collection)
	return ""
}
