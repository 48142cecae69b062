package mock

import (
	"encoding/json"
	"io"
	"net/url"
	"strconv"
	"testing"
)

// referenceLinks is what MongoDB's page links are, written the plain way:
// the request's URL with url.Values setting the page and page size, its
// query encoded by url.Values.Encode. pageLinks writes them without those
// allocations; the two must agree byte for byte.
func referenceLinks(base *url.URL, rawQuery string, relative bool, links map[string]int, size int) map[string]string {
	out := map[string]string{}
	for rel, n := range links {
		q, _ := url.ParseQuery(rawQuery)
		q.Set("pageNum", strconv.Itoa(n))
		q.Set("itemsPerPage", strconv.Itoa(size))
		u := url.URL{Scheme: base.Scheme, Host: base.Host, Path: base.Path, RawQuery: q.Encode()}
		if relative {
			u.Scheme, u.Host = "", ""
		}
		out[rel] = u.String()
	}
	return out
}

func TestPageLinksAsURLValuesWritesThem(t *testing.T) {
	key := fixtureKey(t, "mongodb-opsmanager", "full")
	tests := []struct {
		name     string
		path     string // under the organization's apiKeys
		query    string
		relative bool
		links    map[string]int // rel → page
		size     int
	}{
		{name: "first page", query: "pageNum=1&itemsPerPage=2", links: map[string]int{"self": 1, "next": 2}, size: 2},
		{name: "a middle page, parameters in another order", query: "itemsPerPage=1&pageNum=2", links: map[string]int{"self": 2, "previous": 1, "next": 3}, size: 1},
		{name: "defaults: no paging parameters", query: "", links: map[string]int{"self": 1, "next": 2}, size: 100},
		{name: "parameters sorting around the paging ones", query: "zeta=1&alpha=x&includeCount=true&pageNum=2&itemsPerPage=1&envelope=false",
			links: map[string]int{"self": 2, "previous": 1, "next": 3}, size: 1},
		{name: "repeated and escaped values", query: "pageNum=1&itemsPerPage=1&tag=a&tag=b%26c&name=x+y&q=%C3%A9%22%3C",
			links: map[string]int{"self": 1, "next": 2}, size: 1},
		{name: "an empty key and a bare flag", query: "=v&flag&pageNum=1&itemsPerPage=1", links: map[string]int{"self": 1, "next": 2}, size: 1},
		{name: "relative links (deviation)", query: "pageNum=2&itemsPerPage=1&x=%2F", relative: true, links: map[string]int{"self": 2, "previous": 1, "next": 3}, size: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opts := Options{}
			if tt.relative {
				opts.Faults = []Fault{{Kind: FaultDeviation, Deviation: "relative-links", Profile: "mongodb-opsmanager"}}
			}
			hs := mongoServer(t, opts)
			client := digestClient(key.PublicKey, key.PrivateKey)
			target := hs.URL + "/api/public/v1.0/orgs/" + mdbDocs + "/apiKeys"
			if tt.query != "" {
				target += "?" + tt.query
			}
			resp, err := client.Get(target)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 200 {
				t.Fatalf("%d %s", resp.StatusCode, body)
			}
			var page struct {
				Links []struct{ Href, Rel string }
			}
			if err := json.Unmarshal(body, &page); err != nil {
				t.Fatalf("%v: %s", err, body)
			}
			u, _ := url.Parse(target)
			want := referenceLinks(u, u.RawQuery, tt.relative, tt.links, tt.size)
			if len(page.Links) != len(want) {
				t.Errorf("links %+v, want %v", page.Links, want)
			}
			for _, l := range page.Links {
				if l.Href != want[l.Rel] {
					t.Errorf("%s link:\n got  %s\n want %s", l.Rel, l.Href, want[l.Rel])
				}
			}
		})
	}
}
