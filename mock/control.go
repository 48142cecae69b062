package mock

import (
	"bytes"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"

	"github.com/opsconform/opsconform/fixtures"
	"github.com/opsconform/opsconform/mock/console"
)

// controlHandler serves the control API under ControlPrefix. It speaks plain
// JSON ({"error": …} on failure), not any vendor's envelope: it is ours.
// controlAccess says who may call it.
//
//	GET    /__opsconform/health
//	GET    /__opsconform/profiles
//	POST   /__opsconform/reset                                 keys, users, data and budgets back to the start
//	GET    /__opsconform/requests                              the journal, newest first, secrets redacted; filters:
//	                                                           status, profile, operation, key, reason, since, limit
//	GET    /__opsconform/ui                                    the web console (and its ui/app.js, ui/app.css)
//	GET    /__opsconform/profiles/{profile}/credentials        the demo credentials by role, in clear, with curl lines
//	GET    /__opsconform/profiles/{profile}/keys               keys with their state, secrets redacted
//	POST   /__opsconform/profiles/{profile}/keys               create; the secret is in this response only
//	GET    /__opsconform/profiles/{profile}/keys/{id}
//	DELETE /__opsconform/profiles/{profile}/keys/{id}
//	POST   /__opsconform/profiles/{profile}/keys/{id}/{action} disable, enable, revoke, regenerate, expire
//	                                                           (regenerate?reveal=pickup: the secret is kept for one pickup)
//	POST   /__opsconform/profiles/{profile}/keys/{id}/secret   pick up a regenerated secret, once
//	GET    /__opsconform/profiles/{profile}/keys/{id}/budget   rate-limit counters per class
//	DELETE /__opsconform/profiles/{profile}/keys/{id}/budget   reset them
//	GET    /__opsconform/profiles/{profile}/budgets            every key's counters, by key id
//	GET    /__opsconform/profiles/{profile}/users
//	POST   /__opsconform/profiles/{profile}/users              create an owner ({"name","role"}…)
//	DELETE /__opsconform/profiles/{profile}/users/{id}         delete an owner of no key
//	POST   /__opsconform/profiles/{profile}/users/{id}/{action} deactivate, activate, disable-api, enable-api
//	GET    /__opsconform/faults                                active faults and deviations
//	POST   /__opsconform/faults                                inject one (a Fault as JSON)
//	DELETE /__opsconform/faults                                clear every fault
//	DELETE /__opsconform/faults/{id}                           clear one
//	GET    /__opsconform/deviations                            the deviations that apply to the served profiles
func (s *Server) controlHandler() http.Handler {
	mux := http.NewServeMux()
	p := ControlPrefix
	mux.HandleFunc("GET "+p+"health", func(w http.ResponseWriter, _ *http.Request) {
		controlJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	})
	mux.HandleFunc("GET "+p+"profiles", s.controlProfiles)
	mux.HandleFunc("POST "+p+"reset", func(w http.ResponseWriter, _ *http.Request) {
		if err := s.Reset(); err != nil {
			controlError(w, err)
			return
		}
		s.journal.reset()
		s.pickups.clear()
		controlJSON(w, http.StatusOK, map[string]string{"status": "reset"})
	})
	mux.HandleFunc("GET "+p+"requests", s.controlJournal)
	ui := console.Handler(ControlPrefix)
	mux.Handle("GET "+p+"ui", ui)
	mux.Handle("GET "+p+"ui/{asset}", ui)
	mux.HandleFunc("GET "+p+"profiles/{profile}/keys", func(w http.ResponseWriter, r *http.Request) {
		keys, err := s.keys.Keys(r.PathValue("profile"))
		if err != nil {
			controlError(w, err)
			return
		}
		now := s.now()
		out := make([]keyWithState, len(keys))
		for i, k := range keys {
			out[i] = keyWithState{Key: k, State: keyState(k, now)}
		}
		controlJSON(w, http.StatusOK, out)
	})
	mux.HandleFunc("GET "+p+"profiles/{profile}/budgets", s.controlBudgets)
	mux.HandleFunc("POST "+p+"profiles/{profile}/keys/{id}/secret", s.controlPickup)
	mux.HandleFunc("POST "+p+"profiles/{profile}/keys", func(w http.ResponseWriter, r *http.Request) {
		var spec KeySpec
		if err := decodeStrict(r, &spec); err != nil {
			controlJSON(w, http.StatusBadRequest, map[string]string{"error": err.Error()})
			return
		}
		k, secret, err := s.keys.Create(r.PathValue("profile"), spec)
		if err != nil {
			controlError(w, err)
			return
		}
		controlJSON(w, http.StatusCreated, map[string]any{"key": k, "secret": secret})
	})
	mux.HandleFunc("GET "+p+"profiles/{profile}/keys/{id}", func(w http.ResponseWriter, r *http.Request) {
		k, err := s.keys.Get(r.PathValue("profile"), r.PathValue("id"))
		if err != nil {
			controlError(w, err)
			return
		}
		controlJSON(w, http.StatusOK, keyWithState{Key: k, State: keyState(k, s.now())})
	})
	mux.HandleFunc("DELETE "+p+"profiles/{profile}/keys/{id}", func(w http.ResponseWriter, r *http.Request) {
		if s.faults.standing(r.PathValue("profile"), devDeleteKeepsKey) {
			if _, err := s.keys.Get(r.PathValue("profile"), r.PathValue("id")); err != nil {
				controlError(w, err)
				return
			}
			w.WriteHeader(http.StatusNoContent)
			return
		}
		if err := s.keys.Delete(r.PathValue("profile"), r.PathValue("id")); err != nil {
			controlError(w, err)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
	mux.HandleFunc("GET "+p+"profiles/{profile}/credentials", s.controlCredentials)
	mux.HandleFunc("POST "+p+"profiles/{profile}/keys/{id}/{action}", s.controlKeyAction)
	mux.HandleFunc("GET "+p+"profiles/{profile}/keys/{id}/budget", s.budgetsHandler)
	mux.HandleFunc("DELETE "+p+"profiles/{profile}/keys/{id}/budget", s.budgetsHandler)
	mux.HandleFunc("GET "+p+"profiles/{profile}/users", func(w http.ResponseWriter, r *http.Request) {
		users, err := s.keys.Users(r.PathValue("profile"))
		if err != nil {
			controlError(w, err)
			return
		}
		controlJSON(w, http.StatusOK, users)
	})
	mux.HandleFunc("POST "+p+"profiles/{profile}/users", s.controlCreateUser)
	mux.HandleFunc("DELETE "+p+"profiles/{profile}/users/{id}", s.controlDeleteUser)
	mux.HandleFunc("POST "+p+"profiles/{profile}/users/{id}/{action}", s.controlUserAction)
	mux.HandleFunc("GET "+p+"faults", func(w http.ResponseWriter, _ *http.Request) {
		controlJSON(w, http.StatusOK, s.faults.list())
	})
	mux.HandleFunc("POST "+p+"faults", func(w http.ResponseWriter, r *http.Request) {
		var f Fault
		if err := decodeStrict(r, &f); err != nil {
			controlJSON(w, http.StatusBadRequest, map[string]string{"error": err.Error()})
			return
		}
		added, err := s.faults.add(f)
		if err != nil {
			controlJSON(w, http.StatusBadRequest, map[string]string{"error": err.Error()})
			return
		}
		controlJSON(w, http.StatusCreated, added)
	})
	mux.HandleFunc("DELETE "+p+"faults", func(w http.ResponseWriter, _ *http.Request) {
		s.faults.remove("")
		w.WriteHeader(http.StatusNoContent)
	})
	mux.HandleFunc("DELETE "+p+"faults/{id}", func(w http.ResponseWriter, r *http.Request) {
		if !s.faults.remove(r.PathValue("id")) {
			controlJSON(w, http.StatusNotFound, map[string]string{"error": fmt.Sprintf("no fault %q", r.PathValue("id"))})
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
	mux.HandleFunc("GET "+p+"deviations", func(w http.ResponseWriter, _ *http.Request) {
		controlJSON(w, http.StatusOK, Deviations(s.profiles))
	})
	mux.HandleFunc(p, func(w http.ResponseWriter, r *http.Request) {
		controlJSON(w, http.StatusNotFound, map[string]string{"error": fmt.Sprintf("no control endpoint %s %s", r.Method, r.URL.Path)})
	})
	return s.controlAccess(mux)
}

// controlAccess guards the control API. With a token, every call but GET
// health must present it as a bearer token. Without one the API is meant
// for loopback clients, so a request whose Host names something else (a
// page that rebound its DNS name to 127.0.0.1) is refused. Either way a
// browser's cross-site request that changes state is refused (CSRF).
func (s *Server) controlAccess(next http.Handler) http.Handler {
	want := sha256.Sum256([]byte(s.opts.ControlToken))
	csrf := http.NewCrossOriginProtection()
	csrf.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		controlJSON(w, http.StatusForbidden, map[string]string{"error": "cross-site requests to the control API are refused"})
	}))
	guarded := csrf.Handler(next)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Content-Type-Options", "nosniff")
		if r.Method == http.MethodGet && r.URL.Path == ControlPrefix+"health" {
			next.ServeHTTP(w, r)
			return
		}
		if s.opts.ControlToken != "" && r.Method == http.MethodGet && console.Serves(strings.TrimPrefix(r.URL.Path, ControlPrefix)) {
			// The console's page holds no data: it asks for the token and
			// sends it on every call it makes. A browser cannot send it
			// when it opens the page.
			next.ServeHTTP(w, r)
			return
		}
		if s.opts.ControlToken == "" {
			if !loopbackHost(r.Host) {
				controlJSON(w, http.StatusForbidden, map[string]string{"error": fmt.Sprintf(
					"the control API has no token, so it answers only requests to localhost or a loopback address, not to %q; start the mock with --control-token to call it through another name", r.Host)})
				return
			}
			guarded.ServeHTTP(w, r)
			return
		}
		scheme, token, _ := strings.Cut(r.Header.Get("Authorization"), " ")
		got := sha256.Sum256([]byte(token))
		if !strings.EqualFold(scheme, "Bearer") || subtle.ConstantTimeCompare(got[:], want[:]) != 1 {
			w.Header().Set("WWW-Authenticate", `Bearer realm="opsconform control API"`)
			controlJSON(w, http.StatusUnauthorized, map[string]string{"error": "the control API needs Authorization: Bearer <token>, the token given to the mock with --control-token or OPSCONFORM_CONTROL_TOKEN, or printed when it started"})
			return
		}
		guarded.ServeHTTP(w, r)
	})
}

// loopbackHost reports whether a Host header names this machine's loopback:
// localhost (or a name under it) or a loopback address.
func loopbackHost(host string) bool {
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	host = strings.TrimSuffix(strings.Trim(host, "[]"), ".")
	if strings.EqualFold(host, "localhost") || strings.HasSuffix(strings.ToLower(host), ".localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func (s *Server) controlKeyAction(w http.ResponseWriter, r *http.Request) {
	profile, id, action := r.PathValue("profile"), r.PathValue("id"), r.PathValue("action")
	if action == "regenerate" {
		reveal := r.URL.Query().Get("reveal")
		if reveal != "" && reveal != "pickup" {
			controlJSON(w, http.StatusBadRequest, map[string]string{"error": fmt.Sprintf("reveal=%q: want pickup (the secret kept for one POST to the key's secret) or nothing (the secret in this response)", reveal)})
			return
		}
		k, secret, err := s.keys.Regenerate(profile, id, s.faults.standing(profile, devRegenerateKeepsOld))
		if err != nil {
			controlError(w, err)
			return
		}
		if reveal == "pickup" {
			s.pickups.put(profile, id, secret, s.now().Add(pickupLifetime))
			controlJSON(w, http.StatusOK, map[string]any{"key": keyWithState{Key: k, State: keyState(k, s.now())},
				"pickup": ControlPrefix + "profiles/" + profile + "/keys/" + id + "/secret", "pickupExpires": s.now().Add(pickupLifetime).UTC()})
			return
		}
		s.pickups.drop(profile, id) // an older pickup would hand out a secret that no longer works
		controlJSON(w, http.StatusOK, map[string]any{"key": k, "secret": secret})
		return
	}
	var change func(k *Key) error
	switch action {
	case "disable":
		change = func(k *Key) error { k.Enabled = false; return nil }
	case "enable":
		change = func(k *Key) error { k.Enabled = true; return nil }
	case "revoke":
		now := s.now().UTC()
		change = func(k *Key) error {
			if !k.Revoked {
				k.Revoked, k.RevokedAt = true, &now
			}
			return nil
		}
	case "expire":
		now := s.now().UTC()
		change = func(k *Key) error { k.Expires = &now; return nil }
	default:
		controlJSON(w, http.StatusNotFound, map[string]string{"error": fmt.Sprintf("unknown key action %q (want disable, enable, revoke, regenerate or expire)", action)})
		return
	}
	k, err := s.keys.Update(profile, id, change)
	if err != nil {
		controlError(w, err)
		return
	}
	controlJSON(w, http.StatusOK, keyWithState{Key: k, State: keyState(k, s.now())})
}

func (s *Server) controlUserAction(w http.ResponseWriter, r *http.Request) {
	var change func(u *User)
	switch action := r.PathValue("action"); action {
	case "deactivate":
		change = func(u *User) { u.Active = false }
	case "activate":
		change = func(u *User) { u.Active = true }
	case "disable-api":
		change = func(u *User) { u.APIAccess = false }
	case "enable-api":
		change = func(u *User) { u.APIAccess = true }
	default:
		controlJSON(w, http.StatusNotFound, map[string]string{"error": fmt.Sprintf("unknown user action %q (want deactivate, activate, disable-api or enable-api)", action)})
		return
	}
	u, err := s.keys.UpdateUser(r.PathValue("profile"), r.PathValue("id"), change)
	if err != nil {
		controlError(w, err)
		return
	}
	controlJSON(w, http.StatusOK, u)
}

type profileInfo struct {
	Name       string         `json:"name"`
	Title      string         `json:"title"`
	BasePath   string         `json:"basePath"`
	Auth       string         `json:"auth"`
	Envelope   string         `json:"envelope"`
	Pagination string         `json:"pagination"`
	RateLimits string         `json:"rateLimits"`
	Operations []string       `json:"operations"` // "GET /api/v1/agents"
	Endpoints  []endpointInfo `json:"endpoints"`  // the same operations, in parts
}

// endpointInfo is one operation as the control API lists it.
type endpointInfo struct {
	ID      string `json:"id"`
	Method  string `json:"method"`
	Path    string `json:"path"`
	Summary string `json:"summary,omitempty"`
	Class   string `json:"class,omitempty"` // its rate-limit class
	Public  bool   `json:"public,omitempty"`
}

func (s *Server) controlProfiles(w http.ResponseWriter, _ *http.Request) {
	out := make([]profileInfo, 0, len(s.profiles))
	for _, p := range s.profiles {
		info := profileInfo{Name: p.Name, Title: p.Title, BasePath: p.BasePath, Auth: s.AuthDescription(p),
			Envelope: p.DescribeEnvelope(), Pagination: p.Pagination.Describe(), RateLimits: p.RateLimits.Describe()}
		for _, o := range p.Operations {
			info.Operations = append(info.Operations, o.Method+" "+o.Path)
			info.Endpoints = append(info.Endpoints, endpointInfo{ID: o.ID, Method: o.Method, Path: o.Path, Summary: o.Summary, Class: o.Class, Public: o.Public})
		}
		out = append(out, info)
	}
	controlJSON(w, http.StatusOK, out)
}

// decodeStrict decodes a small JSON body, refusing unknown fields so a typo
// in a scenario set-up fails loudly.
func decodeStrict(r *http.Request, v any) error {
	data, err := io.ReadAll(io.LimitReader(r.Body, maxBody))
	if err != nil {
		return fmt.Errorf("cannot read the body: %v", err)
	}
	if len(bytes.TrimSpace(data)) == 0 {
		return nil
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("bad JSON body: %v", err)
	}
	return nil
}

func controlError(w http.ResponseWriter, err error) {
	status := http.StatusInternalServerError
	switch {
	case errors.Is(err, ErrNoProfile), errors.Is(err, ErrNoKey), errors.Is(err, ErrNoUser):
		status = http.StatusNotFound
	case errors.Is(err, ErrConflict):
		status = http.StatusConflict
	case errors.Is(err, ErrInvalid):
		status = http.StatusBadRequest
	}
	controlJSON(w, status, map[string]string{"error": err.Error()})
}

func controlJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}

// budgetsHandler serves a key's counters (GET) and resets them (DELETE).
func (s *Server) budgetsHandler(w http.ResponseWriter, r *http.Request) {
	profile, id := r.PathValue("profile"), r.PathValue("id")
	p := s.byName[profile]
	if p == nil {
		controlError(w, fmt.Errorf("%w: %q", ErrNoProfile, profile))
		return
	}
	if _, err := s.keys.Get(profile, id); err != nil {
		controlError(w, err)
		return
	}
	if r.Method == http.MethodDelete {
		s.limiter.resetKey(profile, id)
	}
	controlJSON(w, http.StatusOK, s.limiter.budgets(p, id))
}

// DemoCredential is one starting key as the control API's credentials call
// shows it: in clear, in the shape of a check's --credentials file.
type DemoCredential struct {
	Secret     string         `json:"secret,omitempty"`
	PublicKey  string         `json:"publicKey,omitempty"`
	PrivateKey string         `json:"privateKey,omitempty"`
	Lacks      *fixtures.Lack `json:"lacks,omitempty"`
}

// controlCredentials lists a profile's starting keys by label (demo, full,
// second, limited, …) with their secrets, the path parameter values its data
// has, and the curl lines printed at start. They are the demo keys of a local
// mock (the fixtures', or minted for a spec without fixtures), not keys made
// later through the API, whose secrets are shown once.
func (s *Server) controlCredentials(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("profile")
	set, ok := s.fixtures[name]
	if !ok {
		controlError(w, fmt.Errorf("%w: %q", ErrNoProfile, name))
		return
	}
	keys := map[string]DemoCredential{}
	for _, k := range set.Keys {
		for _, l := range k.Labels {
			if _, taken := keys[l]; !taken {
				keys[l] = DemoCredential{Secret: k.Secret, PublicKey: k.PublicKey, PrivateKey: k.PrivateKey, Lacks: k.Lacks}
			}
		}
	}
	var curls []string
	base := scheme(r) + "://" + r.Host
	for _, d := range s.Demos(base) {
		if d.Profile == name {
			curls = append(curls, d.Curl)
		}
	}
	params := set.Params
	if params == nil {
		params = map[string]string{}
	}
	controlJSON(w, http.StatusOK, map[string]any{"params": params, "keys": keys, "curl": curls})
}
