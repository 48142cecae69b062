package mock

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
)

// TestODataQueryOptionsApplyToTheData: Ivanti's $filter, $orderby and
// $select change what a list answers, page by page; what the mock cannot
// apply is a 400 ISM_4000 naming it (they were accepted and ignored).
func TestODataQueryOptionsApplyToTheData(t *testing.T) {
	h := newHarness(t)
	p := profileNamed(t, "ivanti-ism")
	hdr, _ := fixtureCredentials(t, p, "full")
	get := func(q url.Values) pageResult {
		return h.listPage(t, p, http.DefaultClient, hdr, "/api/odata/businessobject/incidents?"+q.Encode())
	}
	all := get(url.Values{"$top": {"100"}, "$skip": {"0"}})
	active := get(url.Values{"$filter": {"Status eq 'Active'"}, "$top": {"100"}})
	if active.status != 200 || len(active.items) == 0 || active.totalItems >= all.totalItems {
		t.Fatalf("$filter: %d, %d of %d items", active.status, active.totalItems, all.totalItems)
	}
	for _, it := range active.items {
		if it["Status"] != "Active" {
			t.Errorf("$filter=Status eq 'Active' answered %v", it["Status"])
		}
	}
	both := get(url.Values{"$filter": {"Status eq 'Active' and (Priority eq '1' or Priority eq '2')"}, "$top": {"100"}})
	for _, it := range both.items {
		if it["Status"] != "Active" || it["Priority"] != "1" && it["Priority"] != "2" {
			t.Errorf("a combined $filter answered %v", it)
		}
	}
	ordered := get(url.Values{"$orderby": {"IncidentNumber desc"}, "$top": {"50"}})
	var nums []float64
	for _, it := range ordered.items {
		nums = append(nums, it["IncidentNumber"].(float64))
	}
	if len(nums) != 50 || !slices.IsSortedFunc(nums, func(a, b float64) int { return int(b - a) }) {
		t.Errorf("$orderby=IncidentNumber desc answered %v", nums)
	}
	selected := get(url.Values{"$select": {"RecId, Subject"}, "$top": {"3"}})
	for _, it := range selected.items {
		if len(it) != 2 || it["RecId"] == nil || it["Subject"] == nil {
			t.Errorf("$select=RecId, Subject answered %v", it)
		}
	}
	if selected.totalItems != all.totalItems {
		t.Errorf("$select changed the count: %d of %d", selected.totalItems, all.totalItems)
	}
	for _, bad := range []url.Values{
		{"$filter": {"Status in ('Active')"}},
		{"$filter": {"Nope eq 1"}},
		{"$orderby": {"Subject sideways"}},
		{"$select": {"Owner/Name"}},
	} {
		r := get(bad)
		if r.status != 400 || !strings.Contains(string(r.body), "ISM_4000") || !strings.Contains(string(r.body), "$") {
			t.Errorf("%s: %d %s, want 400 ISM_4000 naming the option", bad.Encode(), r.status, r.body)
		}
	}
}

// TestMongoDBNameFilter: GET /orgs?name= answers the organization of that
// name or none; clients look organizations up this way, and an ignored
// filter made them take the wrong one.
func TestMongoDBNameFilter(t *testing.T) {
	h := newHarness(t)
	p := profileNamed(t, "mongodb-opsmanager")
	_, client := fixtureCredentials(t, p, "full")
	for name, want := range map[string]int{"Docs": 1, "NoSuchOrg": 0} {
		r := h.listPage(t, p, client, nil, "/api/public/v1.0/orgs?name="+url.QueryEscape(name))
		if r.status != 200 || len(r.items) != want || r.totalItems != want {
			t.Errorf("?name=%s: %d with %d items (total %d), want %d", name, r.status, len(r.items), r.totalItems, want)
		}
		for _, it := range r.items {
			if it["name"] != name {
				t.Errorf("?name=%s answered %v", name, it["name"])
			}
		}
	}
}
