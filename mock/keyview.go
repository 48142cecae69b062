package mock

import (
	"maps"
	"net/url"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/opsconform/opsconform/specs"
	"github.com/pb33f/libopenapi/datamodel/high/base"
)

// answerKeys serves operations whose items are the API keys themselves: the
// caller's own key (whoami) and key management (MongoDB's apiKeys). Keys are
// shown through the operation's schema: each property is filled from the key
// by its name (id, desc, publicKey, privateKey, roles, scopes, expiresAt, user…).
func (s *Server) answerKeys(x *exchange) *failure {
	res := x.op.Resource
	p := x.profile
	parent := x.params[res.Parent]
	switch res.Action {
	case specs.ActionWhoAmI:
		me := s.keyView(x, x.auth.Key, x.auth.Owner, "")
		if x.faults.has(devWhoAmIShowsSecret) {
			if _, token, ok := strings.Cut(x.r.Header.Get("Authorization"), " "); ok {
				me["apiKey"] = token
			}
		}
		s.respond(x, me)
		return nil
	case specs.ActionList:
		keys, rev, _ := s.keys.KeysAt(p.Name) // shared: never changed in place
		v := s.keyViewsFor(x, keys, rev, parent)
		if v.visible == nil {
			return s.list(x, len(keys), func(dst []byte, i int) []byte { return s.appendKeyView(dst, x, v, keys, i) })
		}
		return s.list(x, len(v.visible), func(dst []byte, i int) []byte { return s.appendKeyView(dst, x, v, keys, int(v.visible[i])) })
	case specs.ActionCreate:
		body, f := x.jsonBody()
		if f != nil {
			return f
		}
		spec := KeySpec{Description: str(body, "desc", "description"), Name: str(body, "name"), Scopes: []string{}}
		if x.auth != nil {
			spec.Owner = x.auth.Key.Owner
		}
		for _, role := range strs(body, "roles", "scopes") {
			spec.Scopes = append(spec.Scopes, bind(role, parent))
		}
		k, secret, err := s.keys.Create(p.Name, spec)
		if err != nil {
			return fail(specs.InvalidBody, "%v", err)
		}
		if x.faults.has(devCreatedSecretRedacted) {
			secret = ""
		}
		s.respond(x, s.keyView(x, k, nil, secret))
		return nil
	}

	id := x.params[res.ID]
	k, err := s.keys.Get(p.Name, id)
	// A key of another organization is as absent as one that never existed.
	if err != nil || res.Action != specs.ActionAssign && parent != "" && !boundTo(k, parent) {
		return fail(specs.NotFound, "No API key %s here.", id)
	}
	switch res.Action {
	case specs.ActionGet:
		s.respond(x, s.keyView(x, k, nil, ""))
	case specs.ActionDelete:
		if x.faults.has(devDeleteKeepsKey) {
			s.respond(x, nil)
			return nil
		}
		if err := s.keys.Delete(p.Name, id); err != nil {
			return fail(specs.NotFound, "%v", err)
		}
		s.respond(x, nil)
	case specs.ActionUpdate, specs.ActionAssign, specs.ActionUnassign:
		body := map[string]any{}
		if res.Action != specs.ActionUnassign {
			var f *failure
			if body, f = x.jsonBody(); f != nil {
				return f
			}
		}
		updated, err := s.keys.Update(p.Name, id, func(k *Key) error {
			if d := str(body, "desc", "description"); d != "" {
				k.Description = d
			}
			if _, given := body["roles"]; given || res.Action == specs.ActionUnassign {
				k.Scopes = rebind(k.Scopes, parent, strs(body, "roles"))
			}
			return nil
		})
		if err != nil {
			return fail(specs.NotFound, "%v", err)
		}
		s.respond(x, s.keyView(x, updated, nil, ""))
	default:
		return fail(specs.MethodNotAllowed, "%s is not a key action.", res.Action)
	}
	return nil
}

// boundTo reports whether any of the key's grants is bound to entity.
func boundTo(k Key, entity string) bool {
	for _, sc := range k.Scopes {
		if _, b, ok := strings.Cut(sc, "@"); ok && b == entity {
			return true
		}
	}
	return false
}

func bind(role, entity string) string {
	if entity == "" {
		return role
	}
	return role + "@" + entity
}

// rebind replaces the grants bound to entity with roles bound to it.
func rebind(scopes []string, entity string, roles []string) []string {
	out := slices.DeleteFunc(slices.Clone(scopes), func(sc string) bool {
		_, b, ok := strings.Cut(sc, "@")
		return ok && b == entity
	})
	for _, r := range roles {
		out = append(out, bind(r, entity))
	}
	return out
}

func str(body map[string]any, names ...string) string {
	for _, n := range names {
		if v, ok := body[n].(string); ok {
			return v
		}
	}
	return ""
}

func strs(body map[string]any, names ...string) []string {
	for _, n := range names {
		if list, ok := body[n].([]any); ok {
			var out []string
			for _, v := range list {
				if s, ok := v.(string); ok {
					out = append(out, s)
				}
			}
			return out
		}
	}
	return nil
}

// keyView renders a key through the operation's item schema. secret is the
// unredacted secret, given only in the response that created the key.
func (s *Server) keyView(x *exchange, k Key, owner *User, secret string) map[string]any {
	sch := keyItemSchema(x)
	out := map[string]any{}
	if sch == nil || sch.Properties == nil {
		return out
	}
	for name, proxy := range sch.Properties.FromOldest() {
		if v, ok := s.keyField(x, k, owner, secret, name, proxy.Schema()); ok {
			out[name] = v
		}
	}
	return out
}

// keyItemSchema is the schema a key is shown through: one item of a list,
// else the whole answer; looked up when the server was built.
func keyItemSchema(x *exchange) *base.Schema {
	if x.op.Resource.Action == specs.ActionList {
		return x.info.itemSchema
	}
	return x.info.successSchema
}

func (s *Server) keyField(x *exchange, k Key, owner *User, secret, name string, sch *base.Schema) (any, bool) {
	switch strings.ToLower(name) {
	case "id", "keyid":
		return k.ID, true
	case "name":
		return k.Name, true
	case "desc", "description":
		return k.Description, true
	case "publickey":
		return k.PublicKey, true
	case "privatekey", "secret", "key":
		if secret != "" {
			return secret, true
		}
		if clear, ok := s.leakedSecret(x, k); ok {
			return clear, true
		}
		return k.Redacted, true
	case "scopes":
		return nonNil(k.Scopes), true
	case "roles":
		return roleObjects(x.profile, k.Scopes), true
	case "expiresat", "expires":
		if k.Expires == nil {
			return nil, true
		}
		return k.Expires.UTC().Format(time.RFC3339), true
	case "created", "createdat":
		return k.Created.UTC().Format(time.RFC3339), true
	case "enabled", "active":
		return k.Enabled && !k.Revoked, true
	case "type":
		return k.Type, true
	case "group":
		return k.Group, true
	case "links":
		return []any{map[string]any{"href": s.keyLink(x, k), "rel": "self"}}, true
	case "user", "owner":
		if owner == nil {
			if us, err := s.keys.Users(x.profile.Name); err == nil {
				for _, u := range us {
					if u.ID == k.Owner {
						u := u
						owner = &u
					}
				}
			}
		}
		if owner == nil {
			return nil, false
		}
		return map[string]any{"id": owner.ID, "email": owner.Email, "role": owner.Role}, true
	}
	return nil, false
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// roleObjects shows bound grants as {orgId: …, roleName: …} using the
// profile's bindings, sorted for stable output.
func roleObjects(p *specs.Profile, scopes []string) []any {
	out := []any{}
	sorted := slices.Clone(scopes)
	sort.Strings(sorted)
	for _, sc := range sorted {
		name, entity, bound := strings.Cut(sc, "@")
		obj := map[string]any{"roleName": name}
		if bound {
			for prefix, field := range p.Access.Bindings {
				if strings.HasPrefix(name, prefix) {
					obj[field] = entity
				}
			}
		}
		out = append(out, obj)
	}
	return out
}

// keyLink is the absolute URL of one key. Where keys are read under the
// entity a grant binds them to (MongoDB's /orgs/{orgId}/apiKeys/{id}), it is
// that URL even in a project's key list, as the vendor's example shows: a
// client following it reaches a GET.
func (s *Server) keyLink(x *exchange, k Key) string {
	path := x.r.URL.Path
	if x.op.Resource.Action == specs.ActionList || x.op.Resource.Action == specs.ActionCreate {
		path = strings.TrimSuffix(path, "/") + "/" + url.PathEscape(k.ID)
	}
	for _, op := range x.profile.Operations {
		r := op.Resource
		if r == nil || r.Source != specs.SourceKeys || r.Action != specs.ActionGet || r.Parent == "" {
			continue
		}
		if entity := boundEntity(x.profile, k, r.Parent); entity != "" {
			path = strings.NewReplacer("{"+r.Parent+"}", url.PathEscape(entity), "{"+r.ID+"}", url.PathEscape(k.ID)).Replace(op.Path)
		}
		break
	}
	u := url.URL{Scheme: scheme(x.r), Host: x.r.Host, Path: path}
	return u.String()
}

// boundEntity is the entity a key's grant is bound to through the binding
// whose field is param (ORG_ → orgId); "" when it has none.
func boundEntity(p *specs.Profile, k Key, param string) string {
	for prefix, field := range p.Access.Bindings {
		if field != param {
			continue
		}
		for _, sc := range k.Scopes {
			if name, entity, ok := strings.Cut(sc, "@"); ok && strings.HasPrefix(name, prefix) {
				return entity
			}
		}
	}
	return ""
}

// keyViews caches the JSON of key views in lists. A key's view depends on
// the key and its owner, the operation's item schema and the URL its link
// is written for, and is stale after any change to the store. A request
// finds its set of views with one lookup and no lock, then reads one slot
// per key it lists; only a miss on a set takes the lock.
type keyViews struct {
	mu    sync.Mutex // serialises publishing tables
	table atomic.Pointer[keyViewTable]
}

// keyViewTable is the views at one store revision. Published tables are
// never changed: a new set is added to a copy.
type keyViewTable struct {
	rev  uint64
	sets map[keyViewSet]*keyViewSlots
}

// keyViewSet is what a list's views depend on besides the keys themselves.
type keyViewSet struct {
	profile string
	schema  *base.Schema
	tls     bool
	host    string // origins come from clients' Host headers: see maxKeyViewSets
	path    string // a key without a bound entity links under the list's path
	parent  string // the entity the list is under ("" for all keys)
}

// keyViewSlots are one set's views, by position in the store's key list at
// the table's revision, filled as keys are first listed.
type keyViewSlots struct {
	visible []int32 // positions of the keys bound to the set's parent; nil when it has none
	views   []atomic.Pointer[[]byte]
}

// maxKeyViewSets bounds the cache: sets come from clients' hosts and paths.
const maxKeyViewSets = 256

// keyViewsFor is the set of views a list request reads, for keys as they
// were at rev.
func (s *Server) keyViewsFor(x *exchange, keys []Key, rev uint64, parent string) *keyViewSlots {
	set := keyViewSet{profile: x.profile.Name, schema: keyItemSchema(x), tls: x.r.TLS != nil, host: x.r.Host, path: x.r.URL.Path, parent: parent}
	c := &s.keyViews
	if t := c.table.Load(); t != nil && t.rev == rev {
		if v := t.sets[set]; v != nil {
			return v
		}
	}
	v := &keyViewSlots{views: make([]atomic.Pointer[[]byte], len(keys))}
	if parent != "" {
		v.visible = make([]int32, 0, len(keys))
		for i := range keys {
			if boundTo(keys[i], parent) {
				v.visible = append(v.visible, int32(i))
			}
		}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	t := c.table.Load()
	switch {
	case t != nil && t.rev > rev:
		return v // the keys read are older than the table: use the views once, keep none
	case t != nil && t.rev == rev:
		if old := t.sets[set]; old != nil {
			return old
		}
	default:
		t = &keyViewTable{rev: rev}
	}
	next := &keyViewTable{rev: rev, sets: make(map[keyViewSet]*keyViewSlots, len(t.sets)+1)}
	if len(t.sets) < maxKeyViewSets {
		maps.Copy(next.sets, t.sets)
	}
	next.sets[set] = v
	c.table.Store(next)
	return v
}

// appendKeyView appends the view of keys[i] as a list shows it, from the
// set's slot once it has been encoded.
func (s *Server) appendKeyView(dst []byte, x *exchange, v *keyViewSlots, keys []Key, i int) []byte {
	if x.faults != nil { // deviations may show secrets or change shapes: never cached
		out, _ := appendJSON(dst, s.keyView(x, keys[i], nil, ""))
		return out
	}
	if b := v.views[i].Load(); b != nil {
		return append(dst, *b...)
	}
	b, _ := appendJSON(nil, s.keyView(x, keys[i], nil, "")) // a key view is maps and strings: it always encodes
	v.views[i].Store(&b)
	return append(dst, b...)
}
