package mock

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"testing"

	validator "github.com/pb33f/libopenapi-validator"
	"github.com/pb33f/libopenapi-validator/config"

	"github.com/opsconform/opsconform/fixtures"
	"github.com/opsconform/opsconform/specs"
)

// listPage fetches one page and returns the items, the raw body and the
// paging fields, read where the profile's model says they are.
type pageResult struct {
	items      []map[string]any
	totalItems int
	totalPages int
	next       string
	status     int
	body       []byte
}

func (h *harness) listPage(t *testing.T, p *specs.Profile, client *http.Client, hdr http.Header, path string) pageResult {
	t.Helper()
	status, _, body := h.doWith(client, "GET", path, hdr, "")
	res := pageResult{status: status, body: body, totalItems: -1, totalPages: -1}
	if status != 200 {
		return res
	}
	var top map[string]any
	if err := json.Unmarshal(body, &top); err != nil {
		t.Fatalf("not JSON: %s", body)
	}
	if p.Envelope.Success != "" {
		top, _ = top[p.Envelope.Success].(map[string]any)
	}
	f := p.Pagination.Response
	raw, ok := top[f.Items].([]any)
	if !ok {
		t.Fatalf("%s: no %q array in %s", path, f.Items, body)
	}
	for _, it := range raw {
		res.items = append(res.items, it.(map[string]any))
	}
	if n, ok := top[f.TotalItems].(float64); ok {
		res.totalItems = int(n)
	}
	if n, ok := top[f.TotalPages].(float64); ok {
		res.totalPages = int(n)
	}
	if f.Links != "" {
		for _, l := range top[f.Links].([]any) {
			if m := l.(map[string]any); m["rel"] == "next" {
				res.next = m["href"].(string)
			}
		}
	}
	return res
}

// walk pages through a list the way the vendor's clients do, using only
// the profile's stop rule, and returns every item.
func (h *harness) walk(t *testing.T, p *specs.Profile, op *specs.Operation, size int) ([]map[string]any, int) {
	t.Helper()
	pg := p.Pagination
	hdr, client := fixtureCredentials(t, p, "full")
	base := h.pathFor(t, p, op)
	sep := "?"
	if strings.Contains(base, "?") {
		sep = "&"
	}
	var all []map[string]any
	declaredTotal := -1
	for i := 0; i < 10000; i++ {
		q := url.Values{}
		q.Set(pg.Size.Param, strconv.Itoa(size))
		if pg.Style == specs.StyleOffset {
			q.Set(pg.Skip.Param, strconv.Itoa(len(all)))
		} else {
			q.Set(pg.Page.Param, strconv.Itoa(i+1))
		}
		r := h.listPage(t, p, client, hdr, base+sep+q.Encode())
		if r.status != 200 {
			t.Fatalf("page %d: %d %s", i+1, r.status, r.body)
		}
		all = append(all, r.items...)
		if r.totalItems >= 0 {
			if declaredTotal >= 0 && declaredTotal != r.totalItems {
				t.Fatalf("total changed from %d to %d while paging", declaredTotal, r.totalItems)
			}
			declaredTotal = r.totalItems
		}
		var done bool
		switch pg.Stop {
		case specs.StopTotalItems:
			done = len(all) >= r.totalItems || len(r.items) == 0
		case specs.StopTotalPages:
			done = i+1 >= r.totalPages
		case specs.StopNextLink:
			done = r.next == ""
			if !done && !strings.Contains(r.next, pg.Page.Param+"="+strconv.Itoa(i+2)) {
				t.Fatalf("next link %s does not point at page %d", r.next, i+2)
			}
		case specs.StopShortPage:
			done = len(r.items) < size
		}
		if done {
			return all, declaredTotal
		}
	}
	t.Fatal("paging did not terminate")
	return nil, 0
}

func TestWalkEveryPageYieldsEveryItemOnce(t *testing.T) {
	h := newHarness(t)
	for _, p := range embeddedProfiles(t) {
		for _, op := range p.Operations {
			if !op.Paginated {
				continue
			}
			for _, size := range []int{7, p.Pagination.Size.Default} {
				t.Run(fmt.Sprintf("%s/%s/size-%d", p.Name, op.ID, size), func(t *testing.T) {
					items, total := h.walk(t, p, op, size)
					field := op.Resource.Field // an access list's entries are told apart by their block
					if c := h.srv.dataset(p.Name).cols[op.Resource.Collection]; c != nil {
						field = c.idField
					}
					seen := map[string]int{}
					for _, it := range items {
						seen[fmt.Sprint(it[field])]++
					}
					for id, n := range seen {
						if n != 1 {
							t.Errorf("%s %s came %d times", field, id, n)
						}
					}
					if total >= 0 && len(items) != total {
						t.Errorf("walked %d items, total says %d", len(items), total)
					}
					want := h.expectedCount(t, p, op)
					if len(items) != want {
						t.Errorf("walked %d items, the collection holds %d", len(items), want)
					}
				})
			}
		}
	}
}

// expectedCount is how many items the list should yield for the full key.
func (h *harness) expectedCount(t *testing.T, p *specs.Profile, op *specs.Operation) int {
	res := op.Resource
	if res.Source == specs.SourceAccessList {
		return len(fixtureKey(t, p.Name, "other-ip").IPs)
	}
	if res.Source == specs.SourceKeys {
		keys, _ := h.srv.keys.Keys(p.Name)
		n := 0
		parent := map[string]string{"orgId": "5980cfc70b6d97029d82e3f6", "groupId": "5e2211c17a3e5a48f5497de3"}[res.Parent]
		for _, k := range keys {
			if boundTo(k, parent) {
				n++
			}
		}
		return n
	}
	c := h.srv.dataset(p.Name).cols[res.Collection]
	// The filters this test's paths fill: the organization, project and related-list parents of pathFor.
	path := map[string]string{"orgId": "5980cfc70b6d97029d82e3f6", "groupId": "5e2211c17a3e5a48f5497de3"}
	for k, v := range h.srv.fixtures[p.Name].Params {
		path[k] = v // the parents of related lists the fixtures name
	}
	var items []*record
	for _, it := range c.items {
		keep := true
		for param, field := range res.Filters {
			if v, ok := path[param]; ok && op.Param("path", param) != nil && !fieldHas(it.fields, strings.Split(field, "."), []string{v}) {
				keep = false
			}
		}
		if keep {
			items = append(items, it)
		}
	}
	if !res.BoundOnly {
		return len(items)
	}
	k := fixtureKey(t, p.Name, "full")
	n := 0
	for _, it := range items {
		for _, sc := range k.Scopes {
			if strings.HasSuffix(sc, "@"+fmt.Sprint(it.fields[c.idField])) {
				n++
				break
			}
		}
	}
	return n
}

func TestPagingEdgeValues(t *testing.T) {
	h := newHarness(t)
	type edge struct {
		query  string
		status int
		items  int // -1: do not check
	}
	tests := map[string]struct {
		path  string
		edges []edge
	}{
		"opsmerge": {"/api/v1/agents", []edge{
			{"page=0", 400, -1}, {"page=-1", 400, -1}, {"page=abc", 400, -1}, {"per_page=0", 400, -1},
			{"per_page=101", 400, -1}, {"per_page=100", 200, 100}, {"", 200, 50}, {"page=99", 200, 0},
			{"page=4&per_page=50", 200, 23}, {"page=1&page=2", 400, -1}, {"page=%ZZ", 400, -1},
		}},
		"opmanager": {"/api/json/v2/device/listDevices", []edge{
			{"page=0", 400, -1}, {"rows=-1", 400, -1}, {"rows=abc", 400, -1}, {"rows=1001", 200, 1000},
			{"rows=1000", 200, 1000}, {"", 200, 50}, {"page=999", 200, 0}, {"page=4&rows=300", 200, 200},
		}},
		"mongodb-opsmanager": {"/api/public/v1.0/orgs/5980cfc70b6d97029d82e3f6/apiKeys", []edge{
			{"pageNum=0", 400, -1}, {"itemsPerPage=0", 400, -1}, {"itemsPerPage=501", 400, -1},
			{"itemsPerPage=abc", 400, -1}, {"itemsPerPage=500", 200, 234}, {"", 200, 100}, {"pageNum=9", 200, 0}, {"itemsPerPage=10&pageNum=24", 200, 4},
		}},
		"ivanti-ism": {"/api/odata/businessobject/incidents", []edge{
			{"$top=0", 400, -1}, {"$skip=-1", 400, -1}, {"$top=abc", 400, -1}, {"$top=101", 200, 100},
			{"", 200, 25}, {"$top=100", 200, 100}, {"$skip=229", 200, 1}, {"$skip=5000", 200, 0},
		}},
	}
	for _, p := range embeddedProfiles(t) {
		tt := tests[p.Name]
		hdr, client := fixtureCredentials(t, p, "full")
		for _, e := range tt.edges {
			t.Run(p.Name+"/"+e.query, func(t *testing.T) {
				path := tt.path
				if e.query != "" {
					path += "?" + e.query
				}
				r := h.listPage(t, p, client, hdr, path)
				if r.status != e.status {
					t.Fatalf("status %d, want %d: %s", r.status, e.status, r.body)
				}
				if e.status == 400 {
					assertErrorEnvelope(t, p, specs.InvalidParameter, r.body)
					return
				}
				if e.items >= 0 && len(r.items) != e.items {
					t.Errorf("%d items, want %d", len(r.items), e.items)
				}
			})
		}
	}
}

func TestMongoDBLinksAndCount(t *testing.T) {
	h := newHarness(t)
	p := profileNamed(t, "mongodb-opsmanager")
	_, client := fixtureCredentials(t, p, "full")
	path := "/api/public/v1.0/orgs/5980cfc70b6d97029d82e3f6/apiKeys"
	_, _, body := h.doWith(client, "GET", path+"?itemsPerPage=1&pageNum=2", nil, "")
	var page struct {
		Links []struct{ Href, Rel string }
	}
	_ = json.Unmarshal(body, &page)
	rels := map[string]string{}
	for _, l := range page.Links {
		rels[l.Rel] = l.Href
	}
	for rel, want := range map[string]string{"self": "pageNum=2", "previous": "pageNum=1", "next": "pageNum=3"} {
		u, err := url.Parse(rels[rel])
		if err != nil || !u.IsAbs() || !strings.Contains(rels[rel], want) || !strings.Contains(rels[rel], "itemsPerPage=1") {
			t.Errorf("%s link %q, want an absolute URL with %s", rel, rels[rel], want)
		}
	}
	_, _, body = h.doWith(client, "GET", path+"?includeCount=false", nil, "")
	if strings.Contains(string(body), "totalCount") {
		t.Errorf("includeCount=false still counts: %s", body)
	}
	_, _, body = h.doWith(client, "GET", path+"?envelope=true", nil, "")
	if !strings.Contains(string(body), `"status":200`) {
		t.Errorf("envelope=true list lacks status: %s", body)
	}
	st, _, body := h.doWith(client, "GET", "/api/public/v1.0/orgs/5980cfc70b6d97029d82e3f6?envelope=true", nil, "")
	var env struct {
		Status  int
		Content map[string]any
	}
	if err := json.Unmarshal(body, &env); err != nil || st != 200 || env.Status != 200 || env.Content["id"] != "5980cfc70b6d97029d82e3f6" {
		t.Errorf("envelope=true single: %d %s", st, body)
	}
	st, _, body = h.doWith(client, "GET", path+"/000000000000000000000000?envelope=true", nil, "")
	if st != 200 || !strings.Contains(string(body), `"status":404`) {
		t.Errorf("envelope=true on a 404: %d %s, want HTTP 200 with status 404 inside", st, body)
	}
}

func TestSameSeedSameBytes(t *testing.T) {
	bodies := func(seed int64) string {
		srv, err := New(Options{Profiles: embeddedProfiles(t), Seed: seed})
		if err != nil {
			t.Fatal(err)
		}
		var all strings.Builder
		for _, p := range embeddedProfiles(t) {
			for _, c := range sortedCollections(srv.dataset(p.Name)) {
				for _, rec := range c.items {
					all.Write(rec.json)
				}
			}
		}
		return all.String()
	}
	a, b, c := bodies(42), bodies(42), bodies(43)
	if a != b {
		t.Error("the same seed gave different data")
	}
	if a == c {
		t.Error("a different seed gave the same data")
	}
}

// TestDeferredDataBuilds pins what deferring the embedded profiles' data to
// first use rests on (deferrable): it builds, for any seed, and it is the
// data New would have built, byte for byte, in the same order.
func TestDeferredDataBuilds(t *testing.T) {
	encode := func(ds *dataset) string {
		var all strings.Builder
		for _, c := range sortedCollections(ds) {
			fmt.Fprintf(&all, "%s %d\n", c.name, len(c.items))
			for _, rec := range c.items {
				all.Write(rec.json)
				all.WriteByte('\n')
			}
		}
		return all.String()
	}
	for _, seed := range []int64{1, 2, 42, -7, 1 << 40} {
		srv, err := New(Options{Profiles: embeddedProfiles(t), Seed: seed})
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range embeddedProfiles(t) {
			if !srv.deferData[p.Name] {
				t.Fatalf("%s: an embedded profile with its embedded fixtures builds its data in New", p.Name)
			}
			if srv.data[p.Name].ds != nil {
				t.Fatalf("seed %d: %s: data built before its first use", seed, p.Name)
			}
			deferred := encode(srv.dataset(p.Name))
			eager, err := buildDataset(p, srv.fixtures[p.Name], seed)
			if err != nil {
				t.Fatalf("seed %d: %s: %v", seed, p.Name, err)
			}
			if deferred != encode(eager) {
				t.Errorf("seed %d: %s: the deferred data differs from the data built at once", seed, p.Name)
			}
		}
	}
}

// TestUserFixturesBuildInNew: fixtures from a directory may not fit the
// spec, so their profile's data is built in New, which refuses them there.
func TestUserFixturesBuildInNew(t *testing.T) {
	dir := t.TempDir()
	bad := "collections:\n  agents:\n    items:\n      - {id: a-1}\n      - {id: a-1}\n"
	if err := os.WriteFile(filepath.Join(dir, "opsmerge.yaml"), []byte(bad), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := New(Options{Profiles: []*specs.Profile{profileNamed(t, "opsmerge")}, Fixtures: fixtures.Dir(dir), Seed: 1})
	if err == nil || !strings.Contains(err.Error(), "used twice") {
		t.Fatalf("New with fixtures whose ids repeat: %v, want the start refused", err)
	}
	srv, err := New(Options{Profiles: embeddedProfiles(t), Fixtures: fixtures.Dir(t.TempDir()), Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range embeddedProfiles(t) {
		if !srv.deferData[p.Name] {
			t.Errorf("%s: its embedded fixtures (none in the directory) are not deferred", p.Name)
		}
	}
}

func sortedCollections(ds *dataset) []*collection {
	var names []string
	for n := range ds.cols {
		names = append(names, n)
	}
	sort.Strings(names)
	out := make([]*collection, len(names))
	for i, n := range names {
		out[i] = ds.cols[n]
	}
	return out
}

func TestWritesChangeLaterReads(t *testing.T) {
	h := newHarness(t)
	p := profileNamed(t, "ivanti-ism")
	hdr, _ := fixtureCredentials(t, p, "full")
	before := h.listPage(t, p, http.DefaultClient, hdr, "/api/odata/businessobject/changes?$top=1").totalItems
	status, _, body := h.do("POST", "/api/odata/businessobject/changes", hdr, `{"Subject":"Patch the core switch","TypeOfChange":"Normal"}`)
	if status != 201 {
		t.Fatalf("create: %d %s", status, body)
	}
	var created map[string]any
	_ = json.Unmarshal(body, &created)
	id, _ := created["RecId"].(string)
	if created["Subject"] != "Patch the core switch" || len(id) != 32 {
		t.Fatalf("created %s", body)
	}
	if after := h.listPage(t, p, http.DefaultClient, hdr, "/api/odata/businessobject/changes?$top=1").totalItems; after != before+1 {
		t.Errorf("count %d → %d after a create", before, after)
	}
	one := "/api/odata/businessobject/changes('" + id + "')"
	if st, _, b := h.do("GET", one, hdr, ""); st != 200 || !strings.Contains(string(b), "Patch the core switch") {
		t.Errorf("read back: %d %s", st, b)
	}
	if st, _, _ := h.do("DELETE", one, hdr, ""); st != 204 {
		t.Errorf("delete: %d", st)
	}
	if st, _, b := h.do("GET", one, hdr, ""); st != 404 {
		t.Errorf("read after delete: %d %s", st, b)
	}
	h.control("POST", "reset", "", nil)
	if n := h.listPage(t, p, http.DefaultClient, hdr, "/api/odata/businessobject/changes?$top=1").totalItems; n != before {
		t.Errorf("after reset %d items, want the fixtures' %d", n, before)
	}
}

// TestEveryResponseValidates calls every operation of every profile the way
// a correct client would and checks the answer against the spec, errors included.
func TestEveryResponseValidates(t *testing.T) {
	h := newHarness(t)
	for _, p := range embeddedProfiles(t) {
		v := validator.NewValidatorFromV3Model(p.Model, config.WithoutSecurityValidation())
		hdr, client := fixtureCredentials(t, p, "full")
		// Deletes last, so the items the other operations address still exist.
		ops := append([]*specs.Operation(nil), p.Operations...)
		deletes := func(o *specs.Operation) bool { return o.Resource != nil && o.Resource.Action == specs.ActionDelete }
		sort.SliceStable(ops, func(i, j int) bool { return !deletes(ops[i]) && deletes(ops[j]) })
		for _, op := range ops {
			t.Run(p.Name+"/"+op.ID, func(t *testing.T) {
				path := h.pathFor(t, p, op)
				body := ""
				if op.Body != nil && op.Body.Schema != nil {
					b, _ := json.Marshal(newGenerator(3).value(op.Body.Schema, "", false, 0))
					body = string(b)
				}
				if op.Resource != nil && op.Resource.Source == specs.SourceAccessList && op.Resource.Action == specs.ActionCreate {
					body = `[{"cidrBlock":"203.0.113.0/24"},{"ipAddress":"2001:db8::1"}]` // generated strings are no addresses
				}
				checks := []struct {
					name   string
					client *http.Client
					hdr    http.Header
				}{{"authorized", client, hdr}, {"unauthenticated", http.DefaultClient, nil}}
				for _, c := range checks {
					req, resp, data := h.exchange(t, c.client, op.Method, path, c.hdr, body)
					if c.name == "authorized" && (resp.StatusCode < 200 || resp.StatusCode > 299) {
						t.Fatalf("%s %s: %d %s", op.Method, path, resp.StatusCode, data)
					}
					resp.Body = io.NopCloser(bytes.NewReader(data))
					if ok, errs := v.GetResponseBodyValidator().ValidateResponseBodyWithPathItem(req, resp, op.PathItem, op.Template); !ok {
						for _, e := range errs {
							t.Errorf("%s response %d does not validate: %s", c.name, resp.StatusCode, describeValidation(e))
						}
					}
				}
			})
		}
	}
}

// exchange sends a request and returns it with its response and body.
func (h *harness) exchange(t *testing.T, c *http.Client, method, path string, hdr http.Header, body string) (*http.Request, *http.Response, []byte) {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, _ := http.NewRequest(method, h.http.URL+path, rd)
	for k, v := range hdr {
		req.Header[k] = v
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	data, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	// Validate against the request as sent, on the spec's own server URL.
	vreq, _ := http.NewRequest(method, path, nil)
	vreq.URL, _ = url.Parse(path)
	return vreq, resp, data
}

// pathFor fills an operation's parameters with values that exist.
func (h *harness) pathFor(t *testing.T, p *specs.Profile, op *specs.Operation) string {
	params := map[string]string{"orgId": "5980cfc70b6d97029d82e3f6", "groupId": "5e2211c17a3e5a48f5497de3"}
	for k, v := range h.srv.fixtures[p.Name].Params {
		params[k] = v // records the data set names (Ivanti's parents of related lists)
	}
	if r := op.Resource; r != nil && r.Source == specs.SourceAccessList {
		params[r.Key] = fixtureKey(t, p.Name, "other-ip").ID // a key whose access list has entries
	}
	if r := op.Resource; r != nil && r.ID != "" {
		switch r.Source {
		case specs.SourceKeys:
			params[r.ID] = fixtureKey(t, p.Name, "second").ID
		case specs.SourceAccessList:
			params[r.ID] = fixtureKey(t, p.Name, "other-ip").IPs[0]
		default:
			c := h.srv.dataset(p.Name).cols[r.Collection]
			params[r.ID] = fmt.Sprint(c.items[0].fields[r.Field]) // the first items are the fixtures' own, which the full key may see
		}
	}
	for _, prm := range op.Params {
		if _, ok := params[prm.Name]; ok || !prm.Required {
			continue
		}
		// A required parameter that names an item of another collection
		// (getAnnotation's and addNotes' entity): that collection's first item.
		params[prm.Name] = "a value a client would send"
		for _, c := range h.srv.dataset(p.Name).cols {
			if c.idField == prm.Name && len(c.items) > 0 {
				params[prm.Name] = fmt.Sprint(c.items[0].fields[c.idField])
			}
		}
	}
	path := op.Path
	var q []string
	for _, prm := range op.Params {
		v, ok := params[prm.Name]
		if !ok {
			continue
		}
		if prm.In == "path" {
			path = strings.ReplaceAll(path, "{"+prm.Name+"}", url.PathEscape(v))
		} else if prm.In == "query" {
			q = append(q, url.QueryEscape(prm.Name)+"="+url.QueryEscape(v))
		}
	}
	if len(q) > 0 {
		path += "?" + strings.Join(q, "&")
	}
	return path
}

// TestNewKeepsLittle guards what start-up keeps beyond the modelled
// descriptions: New builds no profile's data and works out no operation's
// opInfo (each comes with its first request), so a server of the four
// embedded profiles adds about 1 MiB to the live heap (keys, fixtures,
// routes, the journal's ring) where it added 7 MiB when New built them.
// The bound leaves room for that to grow, not for the data to come back.
func TestNewKeepsLittle(t *testing.T) {
	ps, err := specs.LoadEmbedded() // fresh: schemas rendered by earlier tests would hide New's
	if err != nil {
		t.Fatal(err)
	}
	live := func() int64 {
		runtime.GC()
		runtime.GC()
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		return int64(m.HeapAlloc)
	}
	before := live()
	srv, err := New(Options{Profiles: ps, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	kept := live() - before
	for name, d := range srv.data {
		if d.ds != nil {
			t.Errorf("%s: data built in New", name)
		}
	}
	for op, l := range srv.ops {
		if l.info != nil {
			t.Errorf("%s: opInfo worked out in New", op.ID)
		}
	}
	t.Logf("New kept %.1f MiB", float64(kept)/(1<<20))
	if kept > 3<<20 {
		t.Errorf("New kept %.1f MiB of live heap, want under 3 MiB", float64(kept)/(1<<20))
	}
	runtime.KeepAlive(srv)
	runtime.KeepAlive(ps)
}

// TestReleaseMemoryWired: with ReleaseMemory, building a deferred profile's
// data asks for a release; without it, or for data built in New, nothing does.
func TestReleaseMemoryWired(t *testing.T) {
	for _, release := range []bool{false, true} {
		srv, err := New(Options{Profiles: embeddedProfiles(t), Seed: 1, ReleaseMemory: release})
		if err != nil {
			t.Fatal(err)
		}
		for name, d := range srv.data {
			if got := d.release != nil; got != release {
				t.Errorf("ReleaseMemory %v: %s releases after its build: %v", release, name, got)
			}
		}
	}
	srv, err := New(Options{Profiles: embeddedProfiles(t), Seed: 1, ReleaseMemory: true})
	if err != nil {
		t.Fatal(err)
	}
	srv.deferData["opsmerge"] = false // as for fixtures from a directory
	if err := srv.Reset(); err != nil {
		t.Fatal(err)
	}
	if srv.data["opsmerge"].release != nil {
		t.Error("data built in Reset asks for a release")
	}
}
