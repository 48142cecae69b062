package suites

import (
	"cmp"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strings"

	"github.com/opsconform/opsconform/reports"
	"github.com/opsconform/opsconform/specs"
)

// lifecycleStatements say, per documented event, what must hold.
var lifecycleStatements = map[string]string{
	"revoke":           "A revoked key is refused with 401 from the next request on",
	"expire":           "An expired key is refused with 401 from the next request on",
	"disable":          "A disabled (deactivated) key is refused with 401 from the next request on",
	"regenerate":       "A regenerated key's old secret is refused with 401 and the new one works",
	"delete":           "A deleted key is refused with 401 from the next request on",
	"deactivate-owner": "A key whose owner is deactivated is refused with 401",
	"shown-once":       "A new key's secret is shown once, when created, and redacted in lists",
	"disable-api":      "A key whose owner's REST API access is turned off is refused",
}

// credentialFor is the credential role that already is in an event's end state.
var credentialFor = map[string]string{"revoke": "revoked", "expire": "expired", "disable": "disabled", "deactivate-owner": "owner-deactivated", "disable-api": "api-disabled"}

func lifecycleChecks(p *specs.Profile) []*Check {
	var checks []*Check
	for _, ev := range p.Lifecycle {
		if ev == "shown-once" && vendorKeys(p) == nil {
			// Keys made in a UI are shown there once: no API call can see it.
			// LIFE-009 still checks no answer shows a secret again.
			continue
		}
		n := slices.Index(specs.LifecycleEvents, ev) + 1
		checks = append(checks, &Check{ID: fmt.Sprintf("%03d", n), Statement: lifecycleStatements[ev], run: checkLifecycle(ev)})
	}
	if p.Documents("shown-once") {
		checks = append(checks, &Check{ID: "009", Statement: "After the response that creates it, no response shows a key's secret: reads, lists, updates and who-am-I redact it", run: checkSecretNeverAgain})
	}
	for _, c := range checks {
		c.Group, c.Citation = "lifecycle", p.Cite("lifecycle")
	}
	return checks
}

// checkLifecycle proves an event with a fresh key when the target lets the
// suite manage keys (the mock's control API, or the vendor's own key
// management), and otherwise with a credential already in the end state.
func checkLifecycle(ev string) func(*T) {
	return func(t *T) {
		e := t.env
		if ev == "shown-once" || ev == "delete" {
			if vendorKeys(e.profile) != nil {
				vendorLifecycle(t, ev)
				return
			}
		}
		if e.isMock {
			controlLifecycle(t, ev)
			return
		}
		role := credentialFor[ev]
		if role == "" {
			t.Skipf("%s needs the mock's control API or the vendor's key management; the target offers neither", ev)
		}
		if ev == "disable-api" {
			refusedWithAPIOff(t, t.Client(role))
			return
		}
		refused(t, t.Client(role), nil)
	}
}

// refusedWithAPIOff checks a key whose owner's API access is off is refused
// with the profile's status for it, in the envelope of that status.
func refusedWithAPIOff(t *T, client *http.Client) {
	op := t.env.probe()
	resp, body := t.Raw(client, op.Method, t.env.path(op, nil), nil, "")
	status := t.env.profile.Access.APIDisabledStatus
	kind := specs.Unauthenticated
	if status == http.StatusForbidden {
		kind = specs.Forbidden
	}
	expectError(t, resp, body, kind, status)
}

// admitted checks a key works on the probe operation.
func admitted(t *T, k Credential, step string) {
	op := t.env.probe()
	client := &http.Client{Transport: t.authTransport(k, t.rec), Timeout: t.env.timeout}
	resp, _ := t.Raw(client, op.Method, t.env.path(op, nil), nil, "")
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		t.Fatalf("2xx", fmt.Sprint(resp.StatusCode), "%s: the key is refused", step)
	}
}

// refusedKey checks a key is refused with 401 in the envelope.
func refusedKey(t *T, k Credential) {
	refused(t, &http.Client{Transport: t.authTransport(k, t.rec), Timeout: t.env.timeout}, nil)
}

// ControlTokenEnv names the environment variable holding the mock's control
// API token (opsconform mock --control-token), sent as a bearer token on
// every control call when set.
const ControlTokenEnv = "OPSCONFORM_CONTROL_TOKEN"

// control calls the mock's control API.
func control(t *T, method, path, body string, out any) {
	var header http.Header
	if tok := os.Getenv(ControlTokenEnv); tok != "" {
		header = http.Header{"Authorization": {"Bearer " + tok}}
		if !slices.Contains(t.rec.secrets, tok) {
			t.rec.secrets = append(t.rec.secrets, tok)
		}
	}
	resp, data := t.Raw(t.Client(""), method, "/__opsconform/"+path, header, body)
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		t.status, t.reason = reports.Error, fmt.Sprintf("control API %s %s: %d %s", method, path, resp.StatusCode, truncate(data))
		panic(stopCheck{})
	}
	if out != nil {
		if err := json.Unmarshal(data, out); err != nil {
			t.status, t.reason = reports.Error, fmt.Sprintf("control API %s %s: %v", method, path, err)
			panic(stopCheck{})
		}
	}
}

type controlKey struct {
	Key struct {
		ID        string `json:"id"`
		PublicKey string `json:"publicKey"`
	} `json:"key"`
	Secret string `json:"secret"`
}

func controlLifecycle(t *T, ev string) {
	e := t.env
	name := e.profile.Name
	spec := map[string]any{"name": "opsconform lifecycle check", "tenant": e.target.Hostname()}
	// The run's own user when it has one: deactivating or cutting off an
	// owner whose keys other runs use would refuse them.
	owner := e.runUser
	if owner == "" {
		owner = t.quietOwner()
	}
	if owner != "" {
		spec["owner"] = owner
	}
	if e.profile.Auth.Mode == specs.AuthDigest {
		// A digest key needs a role bound to an entity the probe may read.
		if org := e.creds.Params["orgId"]; org != "" {
			spec["scopes"] = []string{"ORG_OWNER@" + org}
		}
	}
	body, _ := json.Marshal(spec)
	var created controlKey
	control(t, "POST", "profiles/"+name+"/keys", string(body), &created)
	k := Credential{Secret: created.Secret, PublicKey: created.Key.PublicKey, PrivateKey: created.Secret}
	t.rec.secrets = append(t.rec.secrets, created.Secret)
	id := url.PathEscape(created.Key.ID)
	deleted := false
	defer func() {
		if !deleted {
			cleanup(t, func() { control(t, "DELETE", "profiles/"+name+"/keys/"+id, "", nil) })
		}
	}()
	admitted(t, k, "a new key")
	switch ev {
	case "shown-once":
		var listed []map[string]any
		control(t, "GET", "profiles/"+name+"/keys", "", &listed)
		raw, _ := json.Marshal(listed)
		if created.Secret == "" {
			t.Fatalf("the secret", "none", "creating a key did not show its secret")
		}
		if strings.Contains(string(raw), created.Secret) {
			t.Fatalf("the secret redacted", "the secret in clear", "the key list shows a secret")
		}
	case "regenerate":
		var regen controlKey
		control(t, "POST", "profiles/"+name+"/keys/"+id+"/regenerate", "", &regen)
		t.rec.secrets = append(t.rec.secrets, regen.Secret)
		refusedKey(t, k)
		admitted(t, Credential{Secret: regen.Secret, PublicKey: created.Key.PublicKey, PrivateKey: regen.Secret}, "the regenerated secret")
	case "deactivate-owner":
		if owner == "" {
			t.Skipf("the profile has no users to deactivate")
		}
		control(t, "POST", "profiles/"+name+"/users/"+url.PathEscape(owner)+"/deactivate", "", nil)
		defer cleanup(t, func() { control(t, "POST", "profiles/"+name+"/users/"+url.PathEscape(owner)+"/activate", "", nil) })
		refusedKey(t, k)
	case "disable-api":
		if owner == "" {
			t.Skipf("the profile has no users whose API access can be turned off")
		}
		control(t, "POST", "profiles/"+name+"/users/"+url.PathEscape(owner)+"/disable-api", "", nil)
		defer cleanup(t, func() { control(t, "POST", "profiles/"+name+"/users/"+url.PathEscape(owner)+"/enable-api", "", nil) })
		refusedWithAPIOff(t, &http.Client{Transport: t.authTransport(k, t.rec), Timeout: t.env.timeout})
	case "delete":
		control(t, "DELETE", "profiles/"+name+"/keys/"+id, "", nil)
		deleted = true
		refusedKey(t, k)
	default: // revoke, expire, disable
		control(t, "POST", "profiles/"+name+"/keys/"+id+"/"+ev, "", nil)
		refusedKey(t, k)
	}
}

// quietOwner is the active user, with API access, who owns the fewest keys
// (ideally none the run uses), so deactivating them for a moment disturbs
// nothing else; "" when the profile has no users.
func (t *T) quietOwner() string {
	name := t.env.profile.Name
	var users []struct {
		ID        string
		Active    bool
		APIAccess bool
	}
	control(t, "GET", "profiles/"+name+"/users", "", &users)
	var keys []struct {
		Owner  string
		Labels []string
	}
	control(t, "GET", "profiles/"+name+"/keys", "", &keys)
	weight := map[string]int{}
	for _, k := range keys {
		weight[k.Owner]++
		if len(k.Labels) > 0 {
			weight[k.Owner] += 100 // a key a run uses: avoid its owner
		}
	}
	best, bestWeight := "", 0
	for _, u := range users {
		if !u.Active || !u.APIAccess {
			continue
		}
		if best == "" || weight[u.ID] < bestWeight {
			best, bestWeight = u.ID, weight[u.ID]
		}
	}
	return best
}

// cleanup undoes a check's set-up without touching its verdict: a failure
// to clean up is not the requirement's failure.
func cleanup(t *T, fn func()) {
	status, reason, expected, got := t.status, t.reason, t.expected, t.got
	defer func() {
		if v := recover(); v != nil {
			if _, ok := v.(stopCheck); !ok {
				panic(v)
			}
		}
		t.status, t.reason, t.expected, t.got = status, reason, expected, got
	}()
	fn()
}

// vendorKeys finds the vendor's own key management: create, list and delete
// operations on the key store, under the same parent.
func vendorKeys(p *specs.Profile) map[specs.Action]*specs.Operation {
	ops := map[specs.Action]*specs.Operation{}
	for _, op := range p.Operations {
		r := op.Resource
		if r == nil || r.Source != specs.SourceKeys || ops[r.Action] != nil {
			continue
		}
		if r.Action == specs.ActionCreate || r.Action == specs.ActionList || r.Action == specs.ActionDelete {
			ops[r.Action] = op
		}
	}
	if ops[specs.ActionCreate] == nil || ops[specs.ActionList] == nil || ops[specs.ActionDelete] == nil {
		return nil
	}
	return ops
}

// vendorLifecycle creates a key through the vendor's API, checks its secret
// is shown then and redacted in the list, deletes it and checks it is refused.
func vendorLifecycle(t *T, ev string) {
	e := t.env
	ops := vendorKeys(e.profile)
	owner := t.Client("full")
	nk := t.createVendorKey()
	k := Credential{Secret: nk.secret, PublicKey: nk.public, PrivateKey: nk.secret}
	switch ev {
	case "shown-once":
		list := ops[specs.ActionList]
		_, listed := t.Raw(owner, list.Method, withQuery(e.path(list, nil), pageSizeParam(e.profile), fmt.Sprint(maxPage(e.profile))), nil, "")
		if leaks(listed, nk.secret) {
			t.Fatalf("the secret redacted", "the secret in clear", "the key list shows the new key's secret")
		}
		if !strings.Contains(string(listed), nk.id) {
			t.Errorf("the new key in the list", "absent", "the key list does not show the new key")
		}
	case "delete":
		admitted(t, k, "a new key")
		del := ops[specs.ActionDelete]
		resp, _ := t.Raw(owner, del.Method, e.path(del, map[string]string{del.Resource.ID: nk.id}), nil, "")
		if resp.StatusCode < 200 || resp.StatusCode > 299 {
			t.Fatalf("2xx", fmt.Sprint(resp.StatusCode), "deleting the key failed")
		}
		refusedKey(t, k)
	}
}

// newKey is a key the check created through the vendor's key management.
type newKey struct{ id, secret, public string }

// createVendorKey creates a key through the vendor's own key management,
// checks the response shows its secret, and deletes the key when the check
// ends (a delete that already happened just answers 404).
func (t *T) createVendorKey() newKey {
	e := t.env
	ops := vendorKeys(e.profile)
	owner := t.Client("full")
	create := ops[specs.ActionCreate]
	resp, data := t.Raw(owner, create.Method, e.path(create, nil), nil, createBody(create))
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		t.Fatalf("2xx", fmt.Sprint(resp.StatusCode), "creating a key through %s failed: %s", create.ID, truncate(data))
	}
	key, _ := e.unwrap(data)
	var nk newKey
	nk.id, _ = key["id"].(string)
	nk.public, _ = key["publicKey"].(string)
	for _, f := range []string{"privateKey", "secret", "key"} {
		if s, ok := key[f].(string); ok && nk.secret == "" {
			nk.secret = s
		}
	}
	if len(nk.secret) >= 8 {
		t.rec.secrets = append(t.rec.secrets, nk.secret)
	}
	if del := ops[specs.ActionDelete]; nk.id != "" {
		t.Defer(func() { t.Raw(owner, del.Method, e.path(del, map[string]string{del.Resource.ID: nk.id}), nil, "") })
	}
	if nk.secret == "" || strings.HasPrefix(nk.secret, "*") {
		t.Fatalf("the new secret in clear", fmt.Sprintf("%.40q", nk.secret), "the response that created the key must show its secret")
	}
	return nk
}

// leaks reports whether body shows more of secret than a redacted form
// does: the secret itself, or its part that redaction hides (all but the
// last 12 characters MongoDB shows).
func leaks(body []byte, secret string) bool {
	if secret == "" {
		return false
	}
	if strings.Contains(string(body), secret) {
		return true
	}
	return len(secret) > 16 && strings.Contains(string(body), secret[:len(secret)-12])
}

// checkSecretNeverAgain reads a fresh key every way the vendor offers (one
// key, lists, updates, project assignment) and the caller's own key through
// who-am-I, and finds its secret in none of the answers.
func checkSecretNeverAgain(t *T) {
	e := t.env
	checked := 0
	for _, op := range e.profile.Operations {
		if r := op.Resource; r == nil || r.Action != specs.ActionWhoAmI || !e.fillable(op) {
			continue
		}
		k, ok := e.creds.Keys["full"]
		if !ok {
			t.Skipf(`no "full" credential for %s`, e.profile.Name)
		}
		resp, body := t.Raw(t.Client("full"), op.Method, e.path(op, nil), nil, "")
		if resp.StatusCode < 200 || resp.StatusCode > 299 {
			t.Fatalf("2xx", fmt.Sprint(resp.StatusCode), "%s failed: %s", op.ID, truncate(body))
		}
		for _, s := range []string{k.Secret, k.PrivateKey} {
			if leaks(body, s) {
				t.Fatalf("the key's secret nowhere", "the secret in clear", "%s shows the secret of the key presented", op.ID)
			}
		}
		checked++
	}
	if vendorKeys(e.profile) != nil {
		nk := t.createVendorKey()
		// Writes first, so the lists that follow hold the key in every place it can be.
		ops := slices.Clone(e.profile.Operations)
		slices.SortStableFunc(ops, func(a, b *specs.Operation) int {
			return cmp.Compare(boolInt(a.Method == http.MethodGet), boolInt(b.Method == http.MethodGet))
		})
		for _, op := range ops {
			r := op.Resource
			if r == nil || r.Source != specs.SourceKeys {
				continue
			}
			var body string
			var extra map[string]string
			switch r.Action {
			case specs.ActionGet:
				extra = map[string]string{r.ID: nk.id}
			case specs.ActionList:
			case specs.ActionUpdate:
				extra, body = map[string]string{r.ID: nk.id}, `{"desc":"opsconform redaction check"}`
			case specs.ActionAssign:
				extra, body = map[string]string{r.ID: nk.id}, validBody(op.Body.Schema)
			default:
				continue
			}
			if !fillableWith(e, op, extra) {
				continue
			}
			path := e.path(op, extra)
			if r.Action == specs.ActionList && e.profile.Pagination != nil && op.Paginated {
				path = withQuery(path, pageSizeParam(e.profile), fmt.Sprint(maxPage(e.profile)))
			}
			resp, data := t.Raw(t.Client("full"), op.Method, path, nil, body)
			if resp.StatusCode < 200 || resp.StatusCode > 299 {
				t.Fatalf("2xx", fmt.Sprint(resp.StatusCode), "%s on a new key failed: %s", op.ID, truncate(data))
			}
			if leaks(data, nk.secret) {
				t.Fatalf("the secret redacted", "the secret in clear", "%s shows a key's secret after the response that created it", op.ID)
			}
			checked++
		}
	}
	if checked == 0 {
		t.Skipf("the target offers no who-am-I and no key management to read keys through")
	}
}

// createBody is the smallest valid body for a key-creating operation: its
// required fields, with the first value the schema allows.
func createBody(op *specs.Operation) string {
	if op.Body == nil || op.Body.Schema == nil {
		return "{}"
	}
	out := map[string]any{}
	s := op.Body.Schema
	for _, name := range s.Required {
		prop, ok := s.Properties.Get(name)
		if !ok {
			continue
		}
		ps := prop.Schema()
		switch {
		case len(ps.Type) > 0 && ps.Type[0] == "array":
			item := ps.Items.A.Schema()
			if len(item.Enum) > 0 {
				// The least privileged role: the last listed is the narrowest by convention.
				out[name] = []any{item.Enum[len(item.Enum)-1].Value}
			} else {
				out[name] = []any{"opsconform"}
			}
		default:
			out[name] = "opsconform lifecycle check"
		}
	}
	b, _ := json.Marshal(out)
	return string(b)
}

func pageSizeParam(p *specs.Profile) string {
	if p.Pagination == nil {
		return ""
	}
	return p.Pagination.Size.Param
}

func maxPage(p *specs.Profile) int {
	if p.Pagination == nil || p.Pagination.Size.Max == 0 {
		return 100
	}
	return p.Pagination.Size.Max
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}
