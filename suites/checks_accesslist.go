package suites

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/netip"
	"strings"
	"time"

	"github.com/opsconform/opsconform/specs"
)

// An API key's access list (MongoDB's /orgs/{orgId}/apiKeys/{apiKeyId}/accessList)
// is checked through the vendor's own API on a key the check creates and
// deletes: nothing the target already has is touched. The address that
// restricts the key is 192.0.2.0/24, a documentation network (RFC 5737)
// that no checker sends from.

// foreignBlock is the access-list entry no checker's address falls in.
const foreignBlock = "192.0.2.0/24"

// accessListOps finds the operations on keys' access lists: list, add and
// delete are needed; nil when the profile lacks one of them.
func accessListOps(p *specs.Profile) map[specs.Action]*specs.Operation {
	ops := map[specs.Action]*specs.Operation{}
	for _, op := range p.Operations {
		if r := op.Resource; r != nil && r.Source == specs.SourceAccessList && ops[r.Action] == nil {
			ops[r.Action] = op
		}
	}
	if ops[specs.ActionList] == nil || ops[specs.ActionCreate] == nil || ops[specs.ActionDelete] == nil {
		return nil
	}
	return ops
}

// accessListKey creates a key through the vendor's key management for an
// access-list check, and the client that presents it.
func (t *T) accessListKey() (newKey, Credential, *http.Client) {
	if vendorKeys(t.env.profile) == nil {
		t.Skipf("the profile documents no key management to create a key whose access list the check may change")
	}
	nk := t.createVendorKey()
	k := Credential{Secret: nk.secret, PublicKey: nk.public, PrivateKey: nk.secret}
	return nk, k, &http.Client{Transport: t.authTransport(k, t.rec), Timeout: t.env.timeout}
}

// addToAccessList adds entries (the request body) to key id's access list
// with the full key, and checks the answer lists every entry it names.
func (t *T) addToAccessList(ops map[specs.Action]*specs.Operation, id, body string, want ...string) {
	op := ops[specs.ActionCreate]
	resp, data := t.Raw(t.Client("full"), op.Method, t.env.path(op, map[string]string{op.Resource.Key: id}), nil, body)
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		t.Fatalf("2xx", fmt.Sprint(resp.StatusCode), "adding %s to a key's access list through %s failed: %s", body, op.ID, truncate(data))
	}
	for _, w := range want {
		if !strings.Contains(string(data), w) {
			t.Fatalf("the access list with "+w, string(truncate(data)), "%s does not answer the list with the entry it added", op.ID)
		}
	}
}

// refusedFromHere sends the probe with client and checks it is refused as
// the profile documents for an address off the key's list; it returns the
// client's address as the refusal names it ("" when it names none).
func (t *T) refusedFromHere(client *http.Client, step string) string {
	e := t.env
	op := e.probe()
	resp, body := t.Raw(client, op.Method, e.path(op, nil), nil, "")
	spec := e.profile.Errors.Spec(specs.AddressRefused)
	if resp.StatusCode != spec.Status {
		t.Fatalf(fmt.Sprint(spec.Status), fmt.Sprint(resp.StatusCode), "%s: a key whose access list leaves out the client's address must be refused", step)
	}
	if err := e.profile.Errors.Match(specs.AddressRefused, body); err != nil {
		t.Fatalf("the "+e.profile.Name+" error envelope", string(truncate(body)), "the refusal is not in the documented envelope: %v", err)
	}
	return namedAddress(body)
}

// namedAddress is the first value of an error body (its parameters, then
// the words of its message) that is an IP address: MongoDB names the
// address it refused, as the server sees it, behind any NAT.
func namedAddress(body []byte) string {
	var m map[string]any
	if json.Unmarshal(body, &m) != nil {
		return ""
	}
	var words []string
	if ps, ok := m["parameters"].([]any); ok {
		for _, p := range ps {
			words = append(words, fmt.Sprint(p))
		}
	}
	for _, v := range m {
		if s, ok := v.(string); ok {
			words = append(words, strings.Fields(s)...)
		}
	}
	for _, w := range words {
		if a, err := netip.ParseAddr(strings.Trim(w, ".,;:()`'\"")); err == nil {
			return a.String()
		}
	}
	return ""
}

// checkAccessListEnforced: a new key works from anywhere; restricted to a
// network the checker is not on it is refused as documented; with the
// address the refusal names added, it works again.
func checkAccessListEnforced(t *T) {
	ops := accessListOps(t.env.profile)
	nk, k, client := t.accessListKey()
	admitted(t, k, "a new key, its access list empty")
	addr := t.addOwnAddress(ops, nk.id, client)
	admitted(t, k, "the key with the client's address "+addr+" on its access list")
}

// addOwnAddress restricts key id to foreignBlock, checks client (holding
// the key) is refused, and adds the address the refusal names, the
// client's as the server sees it; it returns that address.
func (t *T) addOwnAddress(ops map[specs.Action]*specs.Operation, id string, client *http.Client) string {
	t.addToAccessList(ops, id, `[{"cidrBlock":"`+foreignBlock+`"}]`, foreignBlock)
	addr := t.refusedFromHere(client, "the key restricted to "+foreignBlock)
	if addr == "" {
		t.Skipf("the refusal does not name the client's address as the server sees it, so the check cannot add it")
	}
	t.addToAccessList(ops, id, `[{"ipAddress":"`+addr+`"}]`, addr)
	return addr
}

// checkAccessListManaged: entries added are listed; deleting an entry by
// its address (a block's slash URL-encoded, as the vendor documents) takes
// it off the list; a key whose list is empty again works from anywhere.
func checkAccessListManaged(t *T) {
	e := t.env
	ops := accessListOps(e.profile)
	nk, k, client := t.accessListKey()
	second := "198.51.100.7" // RFC 5737 too
	t.addToAccessList(ops, nk.id, `[{"cidrBlock":"`+foreignBlock+`"},{"ipAddress":"`+second+`"}]`, foreignBlock, second)
	t.refusedFromHere(client, "the key restricted to "+foreignBlock+" and "+second)
	list := ops[specs.ActionList]
	listPath := e.path(list, map[string]string{list.Resource.Key: nk.id})
	resp, data := t.Raw(t.Client("full"), list.Method, listPath, nil, "")
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(data), foreignBlock) || !strings.Contains(string(data), second) {
		t.Fatalf("200 listing "+foreignBlock+" and "+second, fmt.Sprintf("%d %s", resp.StatusCode, truncate(data)), "%s does not list the entries added", list.ID)
	}
	del := ops[specs.ActionDelete]
	for _, entry := range []string{foreignBlock, second} {
		path := e.path(del, map[string]string{del.Resource.Key: nk.id, del.Resource.ID: entry})
		resp, data := t.Raw(t.Client("full"), del.Method, path, nil, "")
		if resp.StatusCode < 200 || resp.StatusCode > 299 {
			t.Fatalf("2xx", fmt.Sprint(resp.StatusCode), "deleting %s through %s (%s) failed: %s", entry, del.ID, path, truncate(data))
		}
	}
	resp, data = t.Raw(t.Client("full"), list.Method, listPath, nil, "")
	if resp.StatusCode != http.StatusOK || strings.Contains(string(data), foreignBlock) || strings.Contains(string(data), second) {
		t.Fatalf("200 without the deleted entries", fmt.Sprintf("%d %s", resp.StatusCode, truncate(data)), "%s still lists entries that were deleted", list.ID)
	}
	admitted(t, k, "the key whose access list was emptied")
}

// checkAccessListUsage: an entry shows what it admitted, as Ops Manager's
// reference documents each entry: count, the requests from its addresses;
// lastUsed and lastUsedAddress, when the last came and from where. After a
// request admitted by the entry for the client's own address, that entry
// counts one more than before, names the address and dates the request.
func checkAccessListUsage(t *T) {
	ops := accessListOps(t.env.profile)
	nk, k, client := t.accessListKey()
	addr := t.addOwnAddress(ops, nk.id, client)
	before, _ := t.accessEntry(ops, nk.id, addr)
	admitted(t, k, "the key with the client's address "+addr+" on its access list")
	after, body := t.accessEntry(ops, nk.id, addr)

	was, _ := intField(before, "count") // an entry never used may leave it out
	now, _ := intField(after, "count")
	want := fmt.Sprintf("count %d or more, lastUsedAddress %q and a lastUsed date", was+1, addr)
	got := fmt.Sprintf("count %v, lastUsedAddress %v, lastUsed %v", after["count"], after["lastUsedAddress"], after["lastUsed"])
	if now < was+1 {
		t.Fatalf(want, got, "the entry for %s does not count the request it admitted (before it: count %v): %s", addr, before["count"], truncate(body))
	}
	if a, _ := after["lastUsedAddress"].(string); a != addr {
		t.Fatalf(want, got, "the entry for %s does not name the address its last request came from: %s", addr, truncate(body))
	}
	if d, _ := after["lastUsed"].(string); !isDateTime(d) {
		t.Fatalf(want, got, "the entry for %s does not date its last request (an ISO 8601 date-time): %s", addr, truncate(body))
	}
}

// accessEntry lists key id's access list with the full key and returns the
// entry for the single address addr, and the body it came in.
func (t *T) accessEntry(ops map[specs.Action]*specs.Operation, id, addr string) (map[string]any, []byte) {
	list := ops[specs.ActionList]
	status, items, _, data := t.pageAt(t.env.path(list, map[string]string{list.Resource.Key: id}))
	if status != http.StatusOK {
		t.Fatalf("200", fmt.Sprint(status), "listing a key's access list through %s failed: %s", list.ID, truncate(data))
	}
	a, err := netip.ParseAddr(addr)
	if err != nil {
		t.Fatalf("an IP address", addr, "the refusal named %q as the client's address", addr)
	}
	block := netip.PrefixFrom(a, a.BitLen()).String()
	for _, it := range items {
		if e, ok := it.(map[string]any); ok && (e["ipAddress"] == addr || e["cidrBlock"] == block) {
			return e, data
		}
	}
	t.Fatalf("an entry for "+addr, string(truncate(data)), "%s does not list the entry for %s that was added", list.ID, addr)
	return nil, nil
}

// isDateTime reports whether s is an ISO 8601 date-time as the vendors
// write them (RFC 3339, with or without fractional seconds).
func isDateTime(s string) bool {
	_, err := time.Parse(time.RFC3339Nano, s)
	return err == nil
}
