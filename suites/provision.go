package suites

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/url"
	"time"

	"github.com/opsconform/opsconform/reports"
	"github.com/opsconform/opsconform/specs"
)

// provisionedRoles are the roles whose keys a run spends or whose budgets
// its checks read: `full` carries most requests, `second` is exhausted by
// the rate-limit burst, and `limited` must see its own budget fall by one
// per request. Against the mock each run gets fresh copies of them, so two
// runs against one mock do not interfere.
var provisionedRoles = []string{"full", "second", "limited"}

// mockKey is a key as the mock's control API lists it.
type mockKey struct {
	ID        string     `json:"id"`
	Name      string     `json:"name"`
	Owner     string     `json:"owner"`
	Scopes    []string   `json:"scopes"`
	Role      string     `json:"role"`
	Type      string     `json:"type"`
	Group     string     `json:"group"`
	Tenant    string     `json:"tenant"`
	IPs       []string   `json:"ips"`
	PublicKey string     `json:"publicKey"`
	Labels    []string   `json:"labels"`
	Redacted  string     `json:"redacted"`
	Enabled   bool       `json:"enabled"`
	Revoked   bool       `json:"revoked"`
	Expires   *time.Time `json:"expires"`
}

func (k mockKey) has(label string) bool {
	for _, l := range k.Labels {
		if l == label {
			return true
		}
	}
	return false
}

// provision gives the run its own keys on the mock: for each provisioned
// role, a new key with the scopes, role, tenant, owner and IPs of the mock's
// key for that role, and a user of its own for the checks that deactivate
// an owner. Checks keep asking for roles by name and get these keys. What
// cannot be provisioned is said in a note, with the reason. The returned
// function deletes what was created; it runs even when the run is
// interrupted, under a bound of its own.
func (e *env) provision(run *reports.Run) (cleanup func()) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(e.ctx), 4*e.timeout)
	defer cancel()
	name := e.profile.Name
	runID := hex.EncodeToString(randomBytes(3))
	note := func(format string, args ...any) {
		msg := fmt.Sprintf(format, args...)
		run.Notes = append(run.Notes, msg)
		e.note("%s", msg)
	}
	var created []string // key IDs
	var user string
	cleanup = func() {
		ctx, cancel := context.WithTimeout(context.WithoutCancel(e.ctx), 4*e.timeout)
		defer cancel()
		for _, id := range created {
			if err := e.control(ctx, http.MethodDelete, "profiles/"+name+"/keys/"+url.PathEscape(id), nil, nil); err != nil {
				e.note("could not delete the run's key %s from the mock: %v", id, err)
			}
		}
		if user != "" {
			if err := e.control(ctx, http.MethodDelete, "profiles/"+name+"/users/"+url.PathEscape(user), nil, nil); err != nil {
				e.note("could not delete the run's user %s from the mock: %v", user, err)
			}
		}
	}
	keys, err := e.mockKeysCtx(ctx)
	if err != nil {
		note("the run uses the credentials' keys as given, so concurrent runs against this mock may interfere: listing the mock's keys failed: %v", err)
		return cleanup
	}
	creds := &Credentials{Params: e.creds.Params, Keys: maps.Clone(e.creds.Keys)}
	var owner string
	for _, role := range provisionedRoles {
		k, ok := e.creds.Keys[role]
		if !ok {
			continue
		}
		var src *mockKey
		for i := range keys {
			if keys[i].has(role) && keyOf(k, e.profile.Auth.Mode, keys[i]) {
				src = &keys[i]
				break
			}
		}
		if src == nil {
			note("the run uses the given %q key, so concurrent runs against this mock may interfere: no key of the mock labelled %s matches it", role, role)
			continue
		}
		if role == "full" {
			owner = src.Owner
		}
		spec := map[string]any{"name": fmt.Sprintf("opsconform check %s (run %s)", role, runID), "owner": src.Owner, "scopes": src.Scopes,
			"role": src.Role, "type": src.Type, "group": src.Group, "tenant": src.Tenant, "ips": src.IPs, "labels": []string{"opsconform-run-" + runID}}
		var out struct {
			Key    mockKey `json:"key"`
			Secret string  `json:"secret"`
		}
		if err := e.control(ctx, http.MethodPost, "profiles/"+name+"/keys", spec, &out); err != nil {
			note("the run uses the given %q key, so concurrent runs against this mock may interfere: creating a fresh one failed: %v", role, err)
			continue
		}
		created = append(created, out.Key.ID)
		e.provisioned[role] = out.Key.ID
		fresh := k // what the credential says about itself (lacks, scopes, role) holds for its copy
		fresh.Secret = out.Secret
		if e.profile.Auth.Mode == specs.AuthDigest {
			fresh.Secret, fresh.PublicKey, fresh.PrivateKey = "", out.Key.PublicKey, out.Secret
		}
		creds.Keys[role] = fresh
		for _, p := range e.redact.secrets {
			if p.secret == k.Secret || p.secret == k.PrivateKey {
				e.redact.add(out.Secret, p.name)
				if fresh.PublicKey != "" {
					e.redact.public[fresh.PublicKey] = p.name
				}
				break
			}
		}
	}
	e.creds = creds
	// A user of the run's own for the owner-deactivation check, so it never
	// deactivates a user whose keys another run is using.
	role := ""
	var users []struct{ ID, Role string }
	if err := e.control(ctx, http.MethodGet, "profiles/"+name+"/users", nil, &users); err == nil {
		for _, u := range users {
			if u.ID == owner || role == "" {
				role = u.Role
			}
		}
	}
	if len(users) == 0 {
		return cleanup
	}
	var u struct{ ID string }
	if err := e.control(ctx, http.MethodPost, "profiles/"+name+"/users", map[string]any{"name": "opsconform check run " + runID, "role": role}, &u); err != nil {
		note("the owner-deactivation check deactivates a shared user, so concurrent runs against this mock may interfere: creating a user of the run's own failed: %v", err)
		return cleanup
	}
	user, e.runUser = u.ID, u.ID
	return cleanup
}

// freshBudget empties the rate-limit budget of the run's own key for role
// on the mock, so a check that counts what a key is admitted starts from a
// whole window whatever earlier checks spent. Elsewhere it does nothing.
func (e *env) freshBudget(role string) {
	id := e.provisioned[role]
	if id == "" {
		return
	}
	if err := e.control(e.ctx, http.MethodDelete, "profiles/"+e.profile.Name+"/keys/"+url.PathEscape(id)+"/budget", nil, nil); err != nil {
		e.note("could not reset the budget of the run's %s key: %v", role, err)
	}
}

// mockKeys lists the mock's keys of the run's profile.
func (e *env) mockKeys() ([]mockKey, error) { return e.mockKeysCtx(e.ctx) }

func (e *env) mockKeysCtx(ctx context.Context) ([]mockKey, error) {
	var keys []mockKey
	err := e.control(ctx, http.MethodGet, "profiles/"+e.profile.Name+"/keys", nil, &keys)
	return keys, err
}

// control calls the mock's control API outside any check.
func (e *env) control(ctx context.Context, method, path string, body, out any) error {
	var rd io.Reader
	if body != nil {
		data, err := json.Marshal(body)
		if err != nil {
			return err
		}
		rd = bytes.NewReader(data)
	}
	req, err := http.NewRequestWithContext(ctx, method, e.target.String()+"/__opsconform/"+path, rd)
	if err != nil {
		return err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	client := &http.Client{Transport: e.base, Timeout: e.timeout, CheckRedirect: noRedirects}
	resp, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("%s %s: %s", method, path, transportReason(err, e.timeout))
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return fmt.Errorf("%s %s: %v", method, path, err)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return fmt.Errorf("%s %s answered %d: %s", method, path, resp.StatusCode, snippet(e.redact.text(string(data))))
	}
	if out != nil {
		if err := json.Unmarshal(data, out); err != nil {
			return fmt.Errorf("%s %s: %v", method, path, err)
		}
	}
	return nil
}

func randomBytes(n int) []byte {
	b := make([]byte, n)
	_, _ = rand.Read(b) // never fails on supported platforms
	return b
}
