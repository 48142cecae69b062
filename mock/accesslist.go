package mock

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"net/netip"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/opsconform/opsconform/specs"
)

// A key's access list is the addresses it may be used from: each entry a
// single address or a CIDR block, kept in Key.IPs in canonical form (an
// address as netip writes it, a block masked: "10.0.0.0/8"). An empty list
// admits any address; the profile's binding decides whether the list is
// enforced at all (x-opsconform-binding: [ip]).

// canonicalEntry turns an address or CIDR block as a client writes it into
// the form the access list keeps. A block that names a single address
// (/32, /128) is that address.
func canonicalEntry(s string) (string, error) {
	s = strings.TrimSpace(s)
	if strings.Contains(s, "/") {
		pfx, err := netip.ParsePrefix(s)
		if err != nil {
			return "", fmt.Errorf("%q is not a CIDR block (like 192.0.2.0/24)", s)
		}
		pfx = pfx.Masked()
		if pfx.IsSingleIP() {
			return pfx.Addr().Unmap().String(), nil
		}
		return pfx.String(), nil
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return "", fmt.Errorf("%q is not an IP address", s)
	}
	return a.Unmap().String(), nil
}

// canonicalEntries canonicalizes a key's access list, dropping duplicates.
func canonicalEntries(entries []string) ([]string, error) {
	var out []string
	for _, e := range entries {
		c, err := canonicalEntry(e)
		if err != nil {
			return nil, fmt.Errorf("%w: ips: %v", ErrInvalid, err)
		}
		if !slices.Contains(out, c) {
			out = append(out, c)
		}
	}
	return out, nil
}

// entryPrefix is an access-list entry as a block: a single address is a
// /32 or /128.
func entryPrefix(entry string) (netip.Prefix, bool) {
	if strings.Contains(entry, "/") {
		p, err := netip.ParsePrefix(entry)
		return p, err == nil
	}
	a, err := netip.ParseAddr(entry)
	if err != nil {
		return netip.Prefix{}, false
	}
	return netip.PrefixFrom(a, a.BitLen()), true
}

// admittingEntry is the first entry of a key's access list that admits the
// client at ip; false when none does. blocksOnly is the
// access-list-ip-entries-ignored deviation's mistake: entries that are
// single addresses are ignored.
func admittingEntry(entries []string, ip string, blocksOnly bool) (string, bool) {
	addr, err := netip.ParseAddr(ip)
	if err != nil {
		return "", false
	}
	addr = addr.Unmap()
	for _, e := range entries {
		if blocksOnly && !strings.Contains(e, "/") {
			continue
		}
		if p, ok := entryPrefix(e); ok && p.Contains(addr) {
			return e, true
		}
	}
	return "", false
}

// answerAccessList serves operations whose items are one API key's
// access-list entries: list, add (an array of {ipAddress} or {cidrBlock}),
// read and delete one entry named by its URL-decoded address. The key must
// exist and be bound to the parent entity (the organization in the path);
// otherwise it is as absent as a key that never existed.
func (s *Server) answerAccessList(x *exchange) *failure {
	res, p := x.op.Resource, x.profile
	keyID := x.params[res.Key]
	k, err := s.keys.Get(p.Name, keyID)
	if err != nil || res.Parent != "" && !boundTo(k, x.params[res.Parent]) {
		return fail(specs.NotFound, "No API key %s here.", keyID)
	}
	switch res.Action {
	case specs.ActionList:
		return s.listAccessList(x, k)
	case specs.ActionCreate:
		add, f := accessListBody(x)
		if f != nil {
			return f
		}
		now := s.now().UTC()
		updated, err := s.keys.Update(p.Name, keyID, func(k *Key) error {
			added := maps.Clone(k.AccessAdded)
			if added == nil {
				added = map[string]time.Time{}
			}
			ips := slices.Clone(k.IPs)
			for _, e := range add {
				if !slices.Contains(ips, e) {
					ips = append(ips, e)
					added[e] = now
					s.accessUsage.forget(p.Name, keyID, e)
				}
			}
			k.IPs, k.AccessAdded = ips, added
			return nil
		})
		if err != nil {
			return fail(specs.NotFound, "No API key %s here.", keyID)
		}
		return s.listAccessList(x, updated)
	}
	raw := x.params[res.ID]
	entry, err := canonicalEntry(raw)
	if err != nil || !slices.Contains(k.IPs, entry) {
		return fail(specs.NotFound, "The access list of API key %s has no entry %s.", keyID, raw)
	}
	switch res.Action {
	case specs.ActionGet:
		s.respond(x, s.accessEntryView(x, k, entry))
	case specs.ActionDelete:
		if x.faults.has(devAccessListDeleteIgnored) {
			s.respond(x, nil)
			return nil
		}
		if _, err := s.keys.Update(p.Name, keyID, func(k *Key) error {
			k.IPs = slices.DeleteFunc(slices.Clone(k.IPs), func(e string) bool { return e == entry })
			k.AccessAdded = maps.Clone(k.AccessAdded)
			delete(k.AccessAdded, entry)
			s.accessUsage.forget(p.Name, keyID, entry)
			return nil
		}); err != nil {
			return fail(specs.NotFound, "No API key %s here.", keyID)
		}
		s.respond(x, nil)
	default:
		return fail(specs.MethodNotAllowed, "%s is not an access-list action.", res.Action)
	}
	return nil
}

// accessListBody reads the entries a request adds: a JSON array whose
// items each carry an ipAddress or a cidrBlock (the schema has already
// checked the shape). A value that is not an address or a block is a 400
// naming it.
func accessListBody(x *exchange) ([]string, *failure) {
	var items []map[string]string
	dec := json.NewDecoder(bytes.NewReader(x.body))
	if err := dec.Decode(&items); err != nil || len(bytes.TrimSpace(x.body[dec.InputOffset():])) > 0 {
		if err == nil {
			err = fmt.Errorf("data after the array")
		}
		return nil, fail(specs.InvalidBody, "The body must be an array of {\"ipAddress\": …} or {\"cidrBlock\": …} entries: %v.", err)
	}
	var out []string
	for i, it := range items {
		ip, hasIP := it["ipAddress"]
		block, hasBlock := it["cidrBlock"]
		var raw string
		switch {
		case hasIP && hasBlock:
			return nil, fail(specs.InvalidBody, "Entry %d gives both ipAddress and cidrBlock; give one.", i)
		case hasIP:
			raw = ip
			if strings.Contains(ip, "/") {
				return nil, fail(specs.InvalidBody, "Entry %d: ipAddress %q is a block; send it as cidrBlock.", i, ip)
			}
		case hasBlock:
			raw = block
			if !strings.Contains(block, "/") {
				return nil, fail(specs.InvalidBody, "Entry %d: cidrBlock %q has no prefix length (like 192.0.2.0/24).", i, block)
			}
		default:
			return nil, fail(specs.InvalidBody, "Entry %d gives neither ipAddress nor cidrBlock.", i)
		}
		e, err := canonicalEntry(raw)
		if err != nil {
			return nil, fail(specs.InvalidBody, "Entry %d: %v.", i, err)
		}
		out = append(out, e)
	}
	return out, nil
}

// listAccessList answers a page of k's entries.
func (s *Server) listAccessList(x *exchange, k Key) *failure {
	entries := slices.Clone(k.IPs)
	return s.list(x, len(entries), func(dst []byte, i int) []byte {
		out, _ := appendJSON(dst, s.accessEntryView(x, k, entries[i]))
		return out
	})
}

// accessEntryView shows one entry as the vendor does: its block, its
// address when it is a single one, when it was added, the requests it
// admitted (count; lastUsed and lastUsedAddress once there was one; see
// accessUsage), and its own link.
func (s *Server) accessEntryView(x *exchange, k Key, entry string) map[string]any {
	pfx, _ := entryPrefix(entry)
	created := k.AccessAdded[entry]
	if created.IsZero() {
		created = k.Created
	}
	out := map[string]any{"cidrBlock": pfx.String(), "created": created.UTC().Format(time.RFC3339)}
	if pfx.IsSingleIP() {
		out["ipAddress"] = pfx.Addr().String()
	}
	use := s.accessUsage.get(x.profile.Name, k.ID, entry)
	if x.faults.has(devAccessListUsageUnrecorded) {
		use = entryUse{}
	}
	out["count"] = use.count
	if use.count > 0 {
		out["lastUsed"] = use.last.UTC().Format(time.RFC3339)
		out["lastUsedAddress"] = use.addr
	}
	// The entry's own URL: the list's path and the entry, its slash encoded.
	base := x.r.URL.EscapedPath()
	if x.op.Resource.Action == specs.ActionGet {
		base = base[:strings.LastIndexByte(base, '/')]
	}
	href := scheme(x.r) + "://" + x.r.Host + strings.TrimSuffix(base, "/") + "/" + url.PathEscape(entry)
	out["links"] = []any{map[string]any{"href": href, "rel": "self"}}
	return out
}
