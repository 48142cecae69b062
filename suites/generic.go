package suites

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strings"

	mongodigest "github.com/mongodb-forks/digest"
	"github.com/opsconform/opsconform/mock/gen"
	"github.com/opsconform/opsconform/specs"
	"github.com/pb33f/libopenapi/datamodel/high/base"
)

// maxGenericOps bounds how many operations one generic check exercises, so a
// run against a spec of a thousand operations stays minutes, not hours.
const maxGenericOps = 300

// genericChecks are the requirements any OpenAPI description implies, for a
// spec without the x-opsconform-* vendor model: credentials as its security
// says, answers as its responses say, mistakes refused. IDs are stable:
// <PROFILE>-GEN-001 is always the missing-credentials check.
func genericChecks(p *specs.Profile) []*Check {
	secured := slices.ContainsFunc(p.Operations, func(op *specs.Operation) bool { return !op.Public && len(op.Security) > 0 })
	var checks []*Check
	if secured {
		checks = append(checks,
			&Check{ID: "001", Statement: "Every secured operation refuses a request without credentials with 401", run: checkGenericNoCredentials},
			&Check{ID: "002", Statement: "Every secured operation refuses unknown credentials with 401", run: checkGenericWrongCredentials},
		)
	}
	checks = append(checks,
		&Check{ID: "003", Statement: "A request the spec documents as valid never gets a 5xx", run: sweepCheck(checkNo5xx)},
		&Check{ID: "004", Statement: "Answers to valid requests use a status code the operation documents", run: sweepCheck(checkDocumentedStatus)},
		&Check{ID: "005", Statement: "Answers with a body use a media type the response documents", run: sweepCheck(checkDocumentedMediaType)},
		&Check{ID: "006", Statement: "Answers validate against the documented response: body schema and headers", run: sweepCheck(checkResponseValidates)},
		&Check{ID: "007", Statement: "A request missing a required parameter gets a 4xx", run: checkMissingParameter},
		&Check{ID: "008", Statement: "A body that breaks its schema gets a 4xx", run: checkBadBody},
		&Check{ID: "009", Statement: "A method the spec does not document on a documented path gets 405", run: checkUndocumentedMethod},
		&Check{ID: "010", Statement: "A REST collection keeps what is created: the new item is read back by its id with the body's fields, and delete removes it", run: checkCRUD, level: "SHOULD"},
	)
	if secured && slices.ContainsFunc(p.Auth.Schemes, func(s *specs.Scheme) bool { return len(s.Scopes) > 0 }) {
		checks = append(checks, &Check{ID: "011", Statement: "A key without a scope an operation requires gets 403", run: checkMissingScope})
	}
	checks = append(checks, &Check{ID: "013", Statement: "A request the spec documents as valid is not refused as malformed (400, 422)", run: sweepCheck(checkNotRefusedAsInvalid), level: "SHOULD"})
	if secured {
		checks = append(checks, &Check{ID: "012", Statement: "Valid credentials, presented as the operation's security says, are admitted: never 401 or 403", run: sweepCheck(checkAdmitted)})
	}
	for _, c := range checks {
		c.Group, c.Citation = "generic", p.File
	}
	return checks
}

// genericOps are the operations the generic checks exercise, in a safe
// order: reads first, then creates and updates, deletes last.
func genericOps(p *specs.Profile) []*specs.Operation {
	rank := map[string]int{http.MethodGet: 0, http.MethodHead: 1, http.MethodPost: 2, http.MethodPut: 3, http.MethodPatch: 4, http.MethodDelete: 6}
	ops := slices.Clone(p.Operations)
	ops = slices.DeleteFunc(ops, func(op *specs.Operation) bool {
		return op.Method == http.MethodOptions || op.Method == http.MethodTrace
	})
	sort.SliceStable(ops, func(i, j int) bool { return rank[ops[i].Method] < rank[ops[j].Method] })
	if len(ops) > maxGenericOps {
		// Reads and writes both get their share of a big spec.
		reads := 0
		for reads < len(ops) && rank[ops[reads].Method] <= 1 {
			reads++
		}
		keepReads := min(reads, maxGenericOps/2)
		keepWrites := min(len(ops)-reads, maxGenericOps-keepReads)
		ops = append(ops[:keepReads:keepReads], ops[reads:reads+keepWrites]...)
	}
	return ops
}

// exchange is one request of the valid sweep and what came back.
type exchange struct {
	op   *specs.Operation
	req  *http.Request
	resp *http.Response
	body []byte
	err  string // why the request could not be made or sent
}

// sweep sends one documented-valid request to every operation (with the
// full credential) and keeps the answers, for the checks that judge them.
// It is memoised per run: the checks run in order on one goroutine.
func (t *T) sweep() []exchange {
	e := t.env
	if e.sweepDone {
		return e.sweepResult
	}
	e.sweepDone = true
	for _, op := range genericOps(e.profile) {
		req, why := t.validRequest(op, "full")
		if req == nil {
			e.sweepResult = append(e.sweepResult, exchange{op: op, err: why})
			continue
		}
		resp, body, err := t.send(req, op, "full")
		x := exchange{op: op, req: req, resp: resp, body: body}
		if err != nil {
			x.err = err.Error()
		}
		e.sweepResult = append(e.sweepResult, x)
	}
	return e.sweepResult
}

// sweepCheck runs a judgement over the sweep's exchanges: the first
// failing exchange fails the requirement, with its operation named.
func sweepCheck(judge func(t *T, x exchange) (expected, got, reason string)) func(*T) {
	return func(t *T) {
		judged := 0
		for _, x := range t.sweep() {
			if x.resp == nil {
				if x.err != "" && x.req != nil {
					t.Errorf("an answer", "none", "%s %s: %s", x.op.Method, x.op.Template, x.err)
					return
				}
				continue
			}
			judged++
			if expected, got, reason := judge(t, x); reason != "" {
				t.Errorf(expected, got, "%s %s (%s): %s", x.op.Method, x.op.Template, x.op.ID, reason)
				return
			}
		}
		if judged == 0 {
			t.Skipf("no operation could be called with the credentials and parameters at hand")
		}
	}
}

func checkAdmitted(_ *T, x exchange) (string, string, string) {
	if !x.op.Public && len(x.op.Security) > 0 && (x.resp.StatusCode == http.StatusUnauthorized || x.resp.StatusCode == http.StatusForbidden) {
		return "admitted", fmt.Sprint(x.resp.StatusCode), "valid credentials were refused: " + string(truncate(x.body))
	}
	return "", "", ""
}

func checkNotRefusedAsInvalid(_ *T, x exchange) (string, string, string) {
	if r := x.op.Success(); r == nil || r.Status >= 300 {
		return "", "", "" // the operation documents no success to expect
	}
	if x.resp.StatusCode == http.StatusBadRequest || x.resp.StatusCode == http.StatusUnprocessableEntity {
		return "a status other than 400 and 422", fmt.Sprint(x.resp.StatusCode), "a valid request was refused: " + string(truncate(x.body))
	}
	return "", "", ""
}

func checkNo5xx(_ *T, x exchange) (string, string, string) {
	if x.resp.StatusCode >= 500 {
		return "a status below 500", fmt.Sprint(x.resp.StatusCode), "a valid request got a server error: " + string(truncate(x.body))
	}
	return "", "", ""
}

func checkDocumentedStatus(_ *T, x exchange) (string, string, string) {
	if x.op.ResponseFor(x.resp.StatusCode) == nil && !(len(x.op.Responses) == 0 && len(x.op.Ranges) == 0) {
		return documentedStatuses(x.op), fmt.Sprint(x.resp.StatusCode), "the status is not documented: " + string(truncate(x.body))
	}
	return "", "", ""
}

func documentedStatuses(op *specs.Operation) string {
	var out []string
	for st := range op.Responses {
		out = append(out, fmt.Sprint(st))
	}
	for c := range op.Ranges {
		out = append(out, fmt.Sprintf("%dXX", c))
	}
	if op.Default != nil {
		out = append(out, "default")
	}
	sort.Strings(out)
	return "one of " + strings.Join(out, ", ")
}

func checkDocumentedMediaType(_ *T, x exchange) (string, string, string) {
	r := x.op.ResponseFor(x.resp.StatusCode)
	if r == nil || len(r.ContentTypes) == 0 || len(x.body) == 0 {
		return "", "", ""
	}
	ct := x.resp.Header.Get("Content-Type")
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil {
		return strings.Join(r.ContentTypes, " or "), ct, "the Content-Type is missing or malformed"
	}
	for _, want := range r.ContentTypes {
		if mediaMatches(want, mt) {
			return "", "", ""
		}
	}
	return strings.Join(r.ContentTypes, " or "), mt, "the media type is not documented for this status"
}

// mediaMatches reports whether media type mt falls under documented (which may be a range like image/*).
func mediaMatches(documented, mt string) bool {
	d, _, err := mime.ParseMediaType(documented)
	if err != nil {
		return false
	}
	if d == mt || d == "*/*" {
		return true
	}
	dt, ds, _ := strings.Cut(d, "/")
	mtt, _, _ := strings.Cut(mt, "/")
	return ds == "*" && dt == mtt
}

func checkResponseValidates(t *T, x exchange) (string, string, string) {
	if x.op.ResponseFor(x.resp.StatusCode) == nil {
		return "", "", "" // GEN-004's business
	}
	resp := *x.resp
	resp.Body = io.NopCloser(bytes.NewReader(x.body))
	v := t.env.profile.Validator(x.op)
	if ok, errs := v.GetResponseBodyValidator().ValidateResponseBodyWithPathItem(x.req, &resp, x.op.PathItem, x.op.Template); !ok && len(errs) > 0 {
		e := errs[0]
		reason := e.Message
		if len(e.SchemaValidationErrors) > 0 {
			f := e.SchemaValidationErrors[0]
			reason = fmt.Sprintf("%s: %s %s", e.Message, f.FieldPath, f.Reason)
		} else if e.Reason != "" {
			reason += ": " + e.Reason
		}
		return "an answer valid against the spec", string(truncate(x.body)), reason
	}
	return "", "", ""
}

// checkGenericNoCredentials sends every secured operation a valid request without credentials.
func checkGenericNoCredentials(t *T) {
	checked := 0
	for _, op := range genericOps(t.env.profile) {
		if op.Public || len(op.Security) == 0 {
			continue
		}
		req, _ := t.validRequest(op, "")
		if req == nil {
			continue
		}
		resp, body, err := t.send(req, op, "")
		if err != nil {
			t.Fatalf("401", "no answer", "%s %s: %v", op.Method, op.Template, err)
		}
		checked++
		if resp.StatusCode != http.StatusUnauthorized {
			t.Fatalf("401", fmt.Sprint(resp.StatusCode), "%s %s (%s) answered a request without credentials: %s", op.Method, op.Template, op.ID, truncate(body))
		}
	}
	if checked == 0 {
		t.Skipf("no secured operation could be called with the parameters at hand")
	}
}

// checkGenericWrongCredentials presents unknown credentials in every scheme of each secured operation.
func checkGenericWrongCredentials(t *T) {
	checked := 0
	for _, op := range genericOps(t.env.profile) {
		if op.Public || len(op.Security) == 0 || onlyMutualTLS(op) {
			continue
		}
		req, _ := t.validRequest(op, "")
		if req == nil {
			continue
		}
		unknown := Credential{Secret: "opsconformUnknownKey0000000000000000000", PublicKey: "opsconfo", PrivateKey: "00000000-0000-4000-8000-000000000000"}
		for _, sc := range t.env.profile.Auth.Schemes {
			if sc.TokenPrefix != "" {
				unknown.Secret = sc.TokenPrefix + unknown.Secret
			}
		}
		resp, body, err := t.sendAs(req, op, firstAlternative(op), unknown)
		if err != nil {
			t.Fatalf("401", "no answer", "%s %s: %v", op.Method, op.Template, err)
		}
		checked++
		if resp.StatusCode != http.StatusUnauthorized {
			t.Fatalf("401", fmt.Sprint(resp.StatusCode), "%s %s (%s) answered unknown credentials: %s", op.Method, op.Template, op.ID, truncate(body))
		}
	}
	if checked == 0 {
		t.Skipf("no secured operation could be called with the parameters at hand")
	}
}

func onlyMutualTLS(op *specs.Operation) bool {
	for _, alt := range op.Security {
		for _, r := range alt {
			if r.Scheme.Mode != specs.AuthMutualTLS {
				return false
			}
		}
	}
	return true
}

func firstAlternative(op *specs.Operation) specs.Alternative {
	for _, alt := range op.Security {
		if len(alt) > 0 {
			return alt
		}
	}
	return nil
}

// checkMissingParameter leaves out each operation's first required query or header parameter.
func checkMissingParameter(t *T) {
	checked := 0
	for _, op := range genericOps(t.env.profile) {
		var drop *specs.Param
		for _, p := range op.Params {
			if p.Required && (p.In == "query" || p.In == "header") && !strings.EqualFold(p.Name, "Authorization") {
				drop = p
				break
			}
		}
		if drop == nil {
			continue
		}
		req, _ := t.validRequest(op, "full")
		if req == nil {
			continue
		}
		if drop.In == "query" {
			q := req.URL.Query()
			q.Del(drop.Name)
			req.URL.RawQuery = q.Encode()
		} else {
			req.Header.Del(drop.Name)
		}
		resp, body, err := t.send(req, op, "full")
		if err != nil {
			t.Fatalf("4xx", "no answer", "%s %s: %v", op.Method, op.Template, err)
		}
		checked++
		if resp.StatusCode < 400 || resp.StatusCode > 499 {
			t.Fatalf("4xx", fmt.Sprint(resp.StatusCode), "%s %s (%s) without its required %s parameter %s: %s", op.Method, op.Template, op.ID, drop.In, drop.Name, truncate(body))
		}
	}
	if checked == 0 {
		t.Skipf("no operation has a required query or header parameter")
	}
}

// checkBadBody sends each JSON body a value of the wrong type.
func checkBadBody(t *T) {
	checked := 0
	for _, op := range genericOps(t.env.profile) {
		b := op.Body
		if b == nil || b.Schema == nil || !isJSON(b.ContentType) || gen.Kind(b.Schema) == "string" && len(b.Schema.Type) == 0 && len(b.Schema.OneOf)+len(b.Schema.AnyOf)+len(b.Schema.AllOf) == 0 {
			continue
		}
		req, _ := t.validRequest(op, "full")
		if req == nil {
			continue
		}
		bad, ok := badBody(b.Schema)
		if !ok {
			continue
		}
		req.Body = io.NopCloser(strings.NewReader(bad))
		req.ContentLength = int64(len(bad))
		req.Header.Set("Content-Type", "application/json")
		resp, body, err := t.send(req, op, "full")
		if err != nil {
			t.Fatalf("4xx", "no answer", "%s %s: %v", op.Method, op.Template, err)
		}
		checked++
		if resp.StatusCode < 400 || resp.StatusCode > 499 {
			t.Fatalf("4xx", fmt.Sprint(resp.StatusCode), "%s %s (%s) took the body %s: %s", op.Method, op.Template, op.ID, bad, truncate(body))
		}
	}
	if checked == 0 {
		t.Skipf("no operation takes a JSON body")
	}
}

// badBody is a JSON body that breaks schema for sure: a property of the
// wrong type, or a value of the wrong type; ok is false when the schema
// constrains too little to break.
func badBody(s *base.Schema) (string, bool) {
	wrong := map[string]string{"string": "12345", "integer": `"not a number"`, "number": `"not a number"`, "boolean": `"maybe"`, "array": `"not a list"`, "object": `"not an object"`}
	if s.Properties != nil {
		for name, proxy := range s.Properties.FromOldest() {
			ps := specs.SchemaOf(proxy)
			if ps == nil || len(ps.Type) != 1 || ps.ReadOnly != nil && *ps.ReadOnly {
				continue
			}
			if w, ok := wrong[ps.Type[0]]; ok {
				n, _ := json.Marshal(name)
				return fmt.Sprintf("{%s: %s}", n, w), true
			}
		}
	}
	if len(s.Type) == 1 {
		if w, ok := wrong[s.Type[0]]; ok {
			return w, true
		}
	}
	return "", false
}

// checkUndocumentedMethod sends each path a method it does not document.
func checkUndocumentedMethod(t *T) {
	byPath := map[string][]*specs.Operation{}
	var order []string
	for _, op := range t.env.profile.Operations {
		if byPath[op.Template] == nil {
			order = append(order, op.Template)
		}
		byPath[op.Template] = append(byPath[op.Template], op)
	}
	checked := 0
	for _, tmpl := range order {
		ops := byPath[tmpl]
		var method string
		for _, m := range []string{http.MethodPatch, http.MethodPut, http.MethodDelete, http.MethodPost} {
			if !slices.ContainsFunc(ops, func(op *specs.Operation) bool { return op.Method == m }) {
				method = m
				break
			}
		}
		if method == "" {
			continue
		}
		req, _ := t.validRequest(ops[0], "full")
		if req == nil {
			continue
		}
		req.Method = method
		resp, body, err := t.send(req, ops[0], "full")
		if err != nil {
			t.Fatalf("405", "no answer", "%s %s: %v", method, tmpl, err)
		}
		checked++
		if resp.StatusCode != http.StatusMethodNotAllowed {
			t.Fatalf("405", fmt.Sprint(resp.StatusCode), "%s %s is not documented: %s", method, tmpl, truncate(body))
		}
		if checked >= 20 {
			return
		}
	}
	if checked == 0 {
		t.Skipf("every path documents every method")
	}
}

// checkCRUD creates an item in each collection, reads it back by its id,
// finds it in the list, and deletes it.
func checkCRUD(t *T) {
	e := t.env
	checked := 0
	for _, create := range e.profile.Operations {
		r := create.Resource
		if r == nil || r.Action != specs.ActionCreate || create.Body == nil || create.Body.Schema == nil || !isJSON(create.Body.ContentType) {
			continue
		}
		get := e.collectionOp(r.Collection, specs.ActionGet)
		if get == nil {
			continue
		}
		req, _ := t.validRequest(create, "full")
		if req == nil {
			continue
		}
		var sent map[string]any
		_ = json.Unmarshal(t.lastBody, &sent)
		resp, body, err := t.send(req, create, "full")
		if err != nil || resp.StatusCode < 200 || resp.StatusCode > 299 {
			t.Fatalf("2xx", fmt.Sprint(statusOf(resp)), "creating through %s failed: %s", create.ID, truncate(body))
		}
		var created map[string]any
		_ = json.Unmarshal(body, &created)
		id := created[get.Resource.Field]
		if id == nil {
			id = sent[get.Resource.Field]
		}
		if id == nil {
			continue
		}
		checked++
		greq, _ := t.validRequestWith(get, "full", map[string]string{get.Resource.ID: fmt.Sprint(id)})
		gresp, gbody, err := t.send(greq, get, "full")
		if err != nil || gresp.StatusCode != http.StatusOK {
			t.Fatalf("200", fmt.Sprint(statusOf(gresp)), "reading the new item back through %s failed: %s", get.ID, truncate(gbody))
		}
		var got map[string]any
		_ = json.Unmarshal(gbody, &got)
		for k, v := range sent {
			if ps := specs.Property(create.Body.Schema, k); ps == nil || ps.WriteOnly != nil && *ps.WriteOnly || ps.ReadOnly != nil && *ps.ReadOnly {
				continue
			}
			if _, has := got[k]; !has {
				continue // the read answer may be a projection
			}
			if sameKind(got[k], v) && !subsumes(got[k], v) {
				a, _ := json.Marshal(v)
				b, _ := json.Marshal(got[k])
				t.Fatalf(string(a), string(b), "field %s of the created item came back changed", k)
			}
		}
		if del := e.collectionOp(r.Collection, specs.ActionDelete); del != nil {
			dreq, _ := t.validRequestWith(del, "full", map[string]string{del.Resource.ID: fmt.Sprint(id)})
			documented := del.Success()
			if dresp, dbody, err := t.send(dreq, del, "full"); err != nil || dresp.StatusCode >= 300 && (documented == nil || dresp.StatusCode != documented.Status) {
				t.Fatalf("2xx", fmt.Sprint(statusOf(dresp)), "deleting the new item through %s failed: %s", del.ID, truncate(dbody))
			}
			greq, _ = t.validRequestWith(get, "full", map[string]string{get.Resource.ID: fmt.Sprint(id)})
			if gresp, _, err := t.send(greq, get, "full"); err == nil && gresp.StatusCode == http.StatusOK {
				t.Fatalf("404", "200", "the deleted item is still read back through %s", get.ID)
			}
		}
	}
	if checked == 0 {
		t.Skipf("no collection has a JSON create and a read by id")
	}
}

// sameKind reports whether two JSON values are of one kind: a field a
// request sends as an id and a response shows as an object is not comparable.
func sameKind(a, b any) bool {
	return fmt.Sprintf("%T", a) == fmt.Sprintf("%T", b)
}

// subsumes reports whether got holds everything sent did: equal values, an
// object with at least sent's fields (a server may fill in more), arrays
// element by element.
func subsumes(got, sent any) bool {
	switch s := sent.(type) {
	case map[string]any:
		g, ok := got.(map[string]any)
		if !ok {
			return !sameKind(got, sent) // not comparable: a request's id, a response's object
		}
		for k, v := range s {
			if !subsumes(g[k], v) {
				return false
			}
		}
		return true
	case []any:
		g, ok := got.([]any)
		if !ok || len(g) > 0 && len(s) > 0 && !sameKind(g[0], s[0]) {
			return true // not comparable
		}
		if len(g) != len(s) {
			return false
		}
		for i := range s {
			if !subsumes(g[i], s[i]) {
				return false
			}
		}
		return true
	}
	if !sameKind(got, sent) {
		return true // a name sent, an object shown: not comparable
	}
	a, _ := json.Marshal(sent)
	b, _ := json.Marshal(got)
	return bytes.Equal(a, b)
}

func statusOf(r *http.Response) int {
	if r == nil {
		return 0
	}
	return r.StatusCode
}

// checkMissingScope calls the operation the limited credential lacks a scope for.
func checkMissingScope(t *T) {
	e := t.env
	k, ok := e.creds.Keys["limited"]
	if !ok || k.Lacks == nil {
		t.Skipf(`no "limited" credential that names the operation it lacks (lacks.operation)`)
	}
	op := e.profile.Operation(k.Lacks.Operation)
	if op == nil {
		t.Skipf("the limited credential names operation %q, which the spec does not have", k.Lacks.Operation)
	}
	req, why := t.validRequest(op, "limited")
	if req == nil {
		t.Skipf("%s cannot be called: %s", op.ID, why)
	}
	resp, body, err := t.send(req, op, "limited")
	if err != nil {
		t.Fatalf("403", "no answer", "%v", err)
	}
	if resp.StatusCode != http.StatusForbidden {
		t.Fatalf("403", fmt.Sprint(resp.StatusCode), "%s answered a key without its scope: %s", op.ID, truncate(body))
	}
}

// collectionOp finds the operation doing action on a collection.
func (e *env) collectionOp(collection string, action specs.Action) *specs.Operation {
	for _, op := range e.profile.Operations {
		if r := op.Resource; r != nil && r.Collection == collection && r.Action == action {
			return op
		}
	}
	return nil
}

// validRequest builds a request the spec documents as valid for op,
// presenting role's credential ("" for none). It returns nil and why when
// it cannot (a path parameter whose value it cannot know).
func (t *T) validRequest(op *specs.Operation, role string) (*http.Request, string) {
	return t.validRequestWith(op, role, nil)
}

func (t *T) validRequestWith(op *specs.Operation, role string, fixed map[string]string) (*http.Request, string) {
	e := t.env
	g := gen.New(gen.Seed(1, e.profile.Name, op.ID), gen.Options{Direction: gen.Request, Examples: true})
	values := map[string]string{}
	for k, v := range e.creds.Params {
		values[k] = v
	}
	for k, v := range fixed {
		values[k] = v
	}
	if r := op.Resource; r != nil && r.ID != "" && values[r.ID] == "" {
		id, why := t.collectionID(r.Collection, r.Field)
		if id == "" {
			return nil, why
		}
		values[r.ID] = id
	}
	path := op.Path
	q := url.Values{}
	header := http.Header{}
	var cookies []*http.Cookie
	for _, p := range op.Params {
		v, known := values[p.Name]
		if !known {
			if !p.Required && p.In != "path" {
				continue
			}
			v = paramValue(g, p)
		}
		switch p.In {
		case "path":
			path = strings.ReplaceAll(path, "{"+p.Name+"}", url.PathEscape(v))
		case "query":
			q.Set(p.Name, v)
		case "header":
			header.Set(p.Name, v)
		case "cookie":
			cookies = append(cookies, &http.Cookie{Name: p.Name, Value: v})
		}
	}
	var body []byte
	if b := op.Body; b != nil && b.ContentType != "" && (b.Required || b.Schema != nil) {
		var ct string
		body, ct = requestBody(e.profile, op, g, b)
		header.Set("Content-Type", ct)
	}
	t.lastBody = body
	u := t.url(path)
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	req, err := http.NewRequestWithContext(e.ctx, op.Method, u, bytes.NewReader(body))
	if err != nil {
		return nil, err.Error()
	}
	req.Header = header
	for _, c := range cookies {
		req.AddCookie(c)
	}
	if role != "" && !op.Public && len(op.Security) > 0 {
		if _, ok := e.creds.Keys[role]; !ok {
			return nil, fmt.Sprintf("no %q credential", role)
		}
	}
	return req, ""
}

// paramValue is a valid value for a parameter, as it travels in a URL or header.
func paramValue(g *gen.Generator, p *specs.Param) string {
	if p.Schema == nil {
		return "opsconform"
	}
	s := gen.ParamText(g.Value(p.Schema, p.Name))
	if p.In == "path" && s == "" {
		return "x"
	}
	return s
}

// requestBody is a valid body in the operation's preferred media type.
func requestBody(p *specs.Profile, op *specs.Operation, g *gen.Generator, b *specs.RequestBody) ([]byte, string) {
	var v any
	if b.Media != nil && b.Media.Example != nil {
		v = gen.Decode(b.Media.Example)
	} else if b.Media != nil && b.Media.Examples != nil && b.Media.Examples.Len() > 0 {
		for _, ex := range b.Media.Examples.FromOldest() {
			if ex != nil && ex.Value != nil {
				v = gen.Decode(ex.Value)
				break
			}
		}
	}
	switch {
	case v != nil && (b.Schema == nil || p.CheckValue(b.Schema, specs.ToServer, v) == nil):
	case b.Schema != nil:
		// A spec's examples may break its own schema (GitHub's do): they
		// are dropped when the generated value does not validate.
		v = g.Value(b.Schema, "")
		if p.CheckValue(b.Schema, specs.ToServer, v) != nil {
			v = gen.New(gen.Seed(2, p.Name, op.ID), gen.Options{Direction: gen.Request}).Value(b.Schema, "")
		}
	default:
		v = map[string]any{}
	}
	mt, _, _ := mime.ParseMediaType(b.ContentType)
	switch {
	case mt == "application/x-www-form-urlencoded":
		return []byte(formValues(v).Encode()), mt
	case mt == "multipart/form-data":
		var buf bytes.Buffer
		w := multipart.NewWriter(&buf)
		for k, vs := range formValues(v) {
			for _, s := range vs {
				_ = w.WriteField(k, s)
			}
		}
		_ = w.Close()
		return buf.Bytes(), w.FormDataContentType()
	case strings.HasPrefix(mt, "text/"):
		if s, ok := v.(string); ok {
			return []byte(s), b.ContentType
		}
	}
	data, _ := json.Marshal(v)
	ct := b.ContentType
	if strings.Contains(ct, "*") {
		ct = "application/json"
	}
	return data, ct
}

func formValues(v any) url.Values {
	out := url.Values{}
	m, _ := v.(map[string]any)
	for k, e := range m {
		switch val := e.(type) {
		case []any:
			for _, x := range val {
				out.Add(k, fmt.Sprint(x))
			}
		case map[string]any:
			b, _ := json.Marshal(val)
			out.Set(k, string(b))
		default:
			out.Set(k, fmt.Sprint(val))
		}
	}
	return out
}

// collectionID finds an item of a collection: the first of its list, else one
// made through its create. Found ids are remembered for the run.
func (t *T) collectionID(collection, field string) (string, string) {
	e := t.env
	if id, ok := e.ids[collection]; ok {
		return id, ""
	}
	remember := func(id string) string {
		if e.ids == nil {
			e.ids = map[string]string{}
		}
		e.ids[collection] = id
		return id
	}
	if list := e.collectionOp(collection, specs.ActionList); list != nil {
		if req, _ := t.validRequest(list, "full"); req != nil {
			if resp, body, err := t.send(req, list, "full"); err == nil && resp.StatusCode == http.StatusOK {
				var v any
				_ = json.Unmarshal(body, &v)
				items, _ := v.([]any)
				if f := list.Resource.Items; f != "" {
					m, _ := v.(map[string]any)
					items, _ = m[f].([]any)
				}
				for _, it := range items {
					if m, ok := it.(map[string]any); ok && m[field] != nil {
						return remember(jsonScalar(m[field])), ""
					}
				}
			}
		}
	}
	if create := e.collectionOp(collection, specs.ActionCreate); create != nil {
		if req, _ := t.validRequest(create, "full"); req != nil {
			var sent map[string]any
			_ = json.Unmarshal(t.lastBody, &sent)
			if resp, body, err := t.send(req, create, "full"); err == nil && resp.StatusCode < 300 {
				var m map[string]any
				_ = json.Unmarshal(body, &m)
				if m[field] != nil {
					return remember(jsonScalar(m[field])), ""
				}
				if sent[field] != nil {
					return remember(jsonScalar(sent[field])), ""
				}
			}
		}
	}
	return "", fmt.Sprintf("no item of %s could be listed or created to name", collection)
}

// jsonScalar writes an id as it goes into a path: numbers without exponents.
func jsonScalar(v any) string {
	if f, ok := v.(float64); ok {
		b, _ := json.Marshal(f)
		return string(b)
	}
	return fmt.Sprint(v)
}

// send sends req presenting role's credential for op (none for ""), and
// reads the answer up to the suite's bound.
func (t *T) send(req *http.Request, op *specs.Operation, role string) (*http.Response, []byte, error) {
	if role == "" || op.Public || len(op.Security) == 0 {
		return t.do(req, nil)
	}
	k := t.env.creds.Keys[role]
	alt := t.env.alternativeFor(op, k)
	return t.sendAs(req, op, alt, k)
}

// sendAs sends req presenting credential k in every scheme of alt.
func (t *T) sendAs(req *http.Request, _ *specs.Operation, alt specs.Alternative, k Credential) (*http.Response, []byte, error) {
	req = req.Clone(req.Context())
	if t.lastBody != nil && req.Body != nil {
		data, _ := io.ReadAll(req.Body)
		req.Body = io.NopCloser(bytes.NewReader(data))
		req.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(data)), nil }
	}
	var digest bool
	for _, r := range alt {
		sc := r.Scheme
		switch sc.Mode {
		case specs.AuthAPIKey:
			v := strings.ReplaceAll(sc.Format, "{key}", k.Secret)
			switch sc.In {
			case "header":
				req.Header.Set(sc.Param, v)
			case "query":
				q := req.URL.Query()
				q.Set(sc.Param, v)
				req.URL.RawQuery = q.Encode()
			case "cookie":
				req.AddCookie(&http.Cookie{Name: sc.Param, Value: v})
			}
		case specs.AuthBearer:
			req.Header.Set("Authorization", "Bearer "+k.Secret)
		case specs.AuthBasic:
			req.Header.Set("Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte(k.PublicKey+":"+k.PrivateKey)))
		case specs.AuthHTTP:
			w := sc.HTTPScheme
			req.Header.Set("Authorization", strings.ToUpper(w[:1])+w[1:]+" "+k.Secret)
		case specs.AuthDigest:
			digest = true
		}
	}
	var rt http.RoundTripper = t.rec
	if digest {
		rt = &mongodigest.Transport{Username: k.PublicKey, Password: k.PrivateKey, Transport: t.rec}
	}
	return t.do(req, rt)
}

func (t *T) do(req *http.Request, rt http.RoundTripper) (*http.Response, []byte, error) {
	if rt == nil {
		rt = t.rec
	}
	client := &http.Client{Transport: rt, Timeout: t.env.timeout, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Do(req)
	if err != nil {
		return nil, nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return resp, body, err
	}
	return resp, body, nil
}

// alternativeFor picks the alternative of op's security that credential k
// can satisfy: one whose schemes all have what they need.
func (e *env) alternativeFor(op *specs.Operation, k Credential) specs.Alternative {
	if op.Public {
		return nil
	}
	for _, alt := range op.Security {
		ok := true
		for _, r := range alt {
			switch r.Scheme.Mode {
			case specs.AuthBasic, specs.AuthDigest:
				ok = ok && k.PublicKey != "" && k.PrivateKey != ""
			case specs.AuthMutualTLS:
			default:
				ok = ok && k.Secret != ""
			}
		}
		if ok {
			return alt
		}
	}
	return firstAlternative(op)
}
