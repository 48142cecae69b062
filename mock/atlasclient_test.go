package mock

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	mongodigest "github.com/mongodb-forks/digest"
	"go.mongodb.org/atlas/mongodbatlas"

	"github.com/opsconform/opsconform/specs"
)

// MongoDB's own Go client for the Public API family, go.mongodb.org/atlas
// (mongodbatlas, what mongocli and the Terraform provider were built on),
// drives the mock unchanged. Its paths are written under Atlas's base,
// /api/atlas/v1.0, which Ops Manager serves as /api/public/v1.0 with the
// same resources below it: basePath points the client's requests there,
// as a base URL would, before the digest transport signs them. Nothing
// else about the requests changes.

// basePath moves requests from one API base path to another.
type basePath struct {
	from, to string
	next     http.RoundTripper
}

func (b basePath) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.URL.Path = strings.Replace(r.URL.Path, b.from, b.to, 1)
	if r.URL.RawPath != "" {
		r.URL.RawPath = strings.Replace(r.URL.RawPath, b.from, b.to, 1)
	}
	return b.next.RoundTrip(r)
}

// atlasClient is mongodbatlas's client for the key pair, against hs.
func atlasClient(t *testing.T, hs *httptest.Server, publicKey, privateKey string) *mongodbatlas.Client {
	t.Helper()
	dt := mongodigest.NewTransport(publicKey, privateKey)
	hc := &http.Client{Transport: basePath{from: "/api/atlas/v1.0/", to: mdbBase + "/", next: dt}, Timeout: 10 * time.Second}
	c, err := mongodbatlas.New(hc, mongodbatlas.SetBaseURL(hs.URL+"/"))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// apiError is the client's error type for an answer, or fails the test.
func apiError(t *testing.T, what string, err error, status int, code string) {
	t.Helper()
	var e *mongodbatlas.ErrorResponse
	switch {
	case !errors.As(err, &e):
		t.Errorf("%s: error %v, want the client's ErrorResponse with %d %s", what, err, status, code)
	case e.HTTPCode != status || e.ErrorCode != code || e.Detail == "":
		t.Errorf("%s: %d %s %q, want %d %s with a detail", what, e.HTTPCode, e.ErrorCode, e.Detail, status, code)
	}
}

// TestAtlasGoClient drives organizations, projects, users and teams, key
// management, access lists, paging and errors through mongodbatlas.
func TestAtlasGoClient(t *testing.T) {
	hs := mongoServer(t, Options{})
	ctx := context.Background()
	full := fixtureKey(t, "mongodb-opsmanager", "full")
	c := atlasClient(t, hs, full.PublicKey, full.PrivateKey)

	t.Run("organizations", func(t *testing.T) {
		for name, want := range map[string]int{"Docs": 1, "NoSuchOrg": 0} {
			orgs, _, err := c.Organizations.List(ctx, &mongodbatlas.OrganizationsListOptions{Name: name})
			if err != nil || len(orgs.Results) != want || orgs.TotalCount != want {
				t.Fatalf("List(name=%s): %+v %v, want %d", name, orgs, err, want)
			}
			if want == 1 && orgs.Results[0].ID != mdbDocs {
				t.Errorf("List(name=%s) = %s", name, orgs.Results[0].ID)
			}
		}
		org, _, err := c.Organizations.Get(ctx, mdbDocs)
		if err != nil || org.Name != "Docs" {
			t.Fatalf("Get: %+v %v", org, err)
		}
		projects, _, err := c.Organizations.Projects(ctx, mdbDocs, nil)
		if err != nil || projects.TotalCount != 2 {
			t.Fatalf("Projects: %+v %v", projects, err)
		}
		for _, p := range projects.Results {
			if p.OrgID != mdbDocs {
				t.Errorf("project %s of org %s in Docs' list", p.Name, p.OrgID)
			}
		}
		users, _, err := c.Organizations.Users(ctx, mdbDocs, nil)
		if err != nil || users.TotalCount != 4 || len(users.Results) != 4 {
			t.Fatalf("Users: %+v %v", users, err)
		}
		for _, u := range users.Results {
			inDocs := slices.ContainsFunc(u.Roles, func(r mongodbatlas.AtlasRole) bool { return r.OrgID == mdbDocs })
			if !inDocs || u.EmailAddress == "" || len(u.TeamIds) == 0 {
				t.Errorf("user %+v: want a role in Docs, an email address and teams", u)
			}
		}
		_, _, err = c.Organizations.Get(ctx, mdbPlatform)
		apiError(t, "Get(another organization)", err, 403, "USER_UNAUTHORIZED")
	})

	t.Run("projects", func(t *testing.T) {
		all, _, err := c.Projects.GetAllProjects(ctx, nil)
		if err != nil || all.TotalCount != 2 {
			t.Fatalf("GetAllProjects: %+v %v", all, err)
		}
		byName, _, err := c.Projects.GetOneProjectByName(ctx, "docs-prod")
		if err != nil || byName.ID != mdbProd || byName.OrgID != mdbDocs {
			t.Fatalf("GetOneProjectByName: %+v %v", byName, err)
		}
		one, _, err := c.Projects.GetOneProject(ctx, byName.ID)
		if err != nil || one.Name != "docs-prod" {
			t.Fatalf("GetOneProject: %+v %v", one, err)
		}
		teams, _, err := c.Projects.GetProjectTeamsAssigned(ctx, mdbProd)
		if err != nil || teams.TotalCount != 2 || len(teams.Results[0].RoleNames) == 0 {
			t.Fatalf("GetProjectTeamsAssigned: %+v %v", teams, err)
		}
		users, _, err := c.AtlasUsers.List(ctx, mdbProd, nil)
		if err != nil || len(users) != 3 {
			t.Fatalf("AtlasUsers.List(project): %d %v", len(users), err)
		}
		_, _, err = c.Projects.GetOneProjectByName(ctx, "no-such-project")
		apiError(t, "GetOneProjectByName(absent)", err, 404, "RESOURCE_NOT_FOUND")
	})

	t.Run("paging", func(t *testing.T) {
		// Every key of the organization exactly once, following the links until there is no next.
		seen := map[string]int{}
		opts := &mongodbatlas.ListOptions{PageNum: 1, ItemsPerPage: 37}
		for pages := 0; ; pages++ {
			if pages > 50 {
				t.Fatal("paging did not end")
			}
			keys, resp, err := c.APIKeys.List(ctx, mdbDocs, opts)
			if err != nil {
				t.Fatal(err)
			}
			for _, k := range keys {
				seen[k.ID]++
				if strings.Count(k.PrivateKey, "*") < 8 {
					t.Errorf("key %s shows its private key: %q", k.ID, k.PrivateKey)
				}
			}
			if resp.IsLastPage() {
				break
			}
			page, err := resp.CurrentPage()
			if err != nil || page != opts.PageNum {
				t.Fatalf("CurrentPage = %d %v, want %d", page, err, opts.PageNum)
			}
			opts.PageNum++
		}
		stored, _ := hsKeysIn(t, mdbDocs)
		if len(seen) != stored {
			t.Errorf("walked %d keys, the organization has %d", len(seen), stored)
		}
		for id, n := range seen {
			if n != 1 {
				t.Errorf("key %s came %d times", id, n)
			}
		}
	})

	t.Run("keys and access lists", func(t *testing.T) {
		created, _, err := c.APIKeys.Create(ctx, mdbDocs, &mongodbatlas.APIKeyInput{Desc: "Go client test", Roles: []string{"ORG_READ_ONLY"}})
		if err != nil || created.PrivateKey == "" || strings.Contains(created.PrivateKey, "*") {
			t.Fatalf("Create: %+v %v, want the private key in clear", created, err)
		}
		read, _, err := c.APIKeys.Get(ctx, mdbDocs, created.ID)
		if err != nil || read.PrivateKey == created.PrivateKey || !strings.HasSuffix(created.PrivateKey, strings.TrimLeft(read.PrivateKey, "*-")) {
			t.Fatalf("Get: %+v %v, want the private key redacted", read, err)
		}
		if _, _, err := c.APIKeys.Update(ctx, mdbDocs, created.ID, &mongodbatlas.APIKeyInput{Desc: "Go client test, renamed"}); err != nil {
			t.Fatal(err)
		}
		if _, err := c.ProjectAPIKeys.Assign(ctx, mdbProd, created.ID, &mongodbatlas.AssignAPIKey{Roles: []string{"GROUP_READ_ONLY"}}); err != nil {
			t.Fatal(err)
		}
		inProject, _, err := c.ProjectAPIKeys.List(ctx, mdbProd, &mongodbatlas.ListOptions{ItemsPerPage: 500})
		if err != nil || !slices.ContainsFunc(inProject, func(k mongodbatlas.APIKey) bool { return k.ID == created.ID && k.Desc == "Go client test, renamed" }) {
			t.Fatalf("ProjectAPIKeys.List does not show the assigned key: %v", err)
		}

		mine := atlasClient(t, hs, created.PublicKey, created.PrivateKey)
		if _, _, err := mine.Organizations.List(ctx, nil); err != nil {
			t.Fatalf("the new key with an empty access list: %v", err)
		}
		list, _, err := c.AccessListAPIKeys.Create(ctx, mdbDocs, created.ID, []*mongodbatlas.AccessListAPIKeysReq{{CidrBlock: "10.0.0.0/8"}})
		if err != nil || list.TotalCount != 1 || list.Results[0].CidrBlock != "10.0.0.0/8" {
			t.Fatalf("AccessListAPIKeys.Create: %+v %v", list, err)
		}
		_, _, err = mine.Organizations.List(ctx, nil)
		apiError(t, "a key whose access list leaves out 127.0.0.1", err, 403, "IP_ADDRESS_NOT_ON_ACCESS_LIST")
		if _, _, err := c.AccessListAPIKeys.Create(ctx, mdbDocs, created.ID, []*mongodbatlas.AccessListAPIKeysReq{{IPAddress: "127.0.0.1"}}); err != nil {
			t.Fatal(err)
		}
		if _, _, err := mine.Organizations.List(ctx, nil); err != nil {
			t.Fatalf("the key with 127.0.0.1 on its access list: %v", err)
		}
		entry, _, err := c.AccessListAPIKeys.Get(ctx, mdbDocs, created.ID, "127.0.0.1")
		if err != nil || entry.IPAddress != "127.0.0.1" || entry.Created == "" {
			t.Fatalf("AccessListAPIKeys.Get: %+v %v", entry, err)
		}
		// The reference says to URL-encode a block's slash; the client passes the entry as given.
		for _, e := range []string{"10.0.0.0%2F8", "127.0.0.1"} {
			if _, err := c.AccessListAPIKeys.Delete(ctx, mdbDocs, created.ID, e); err != nil {
				t.Fatalf("AccessListAPIKeys.Delete(%s): %v", e, err)
			}
		}
		if list, _, err := c.AccessListAPIKeys.List(ctx, mdbDocs, created.ID, nil); err != nil || list.TotalCount != 0 {
			t.Fatalf("after the deletes: %+v %v", list, err)
		}
		_, err = c.AccessListAPIKeys.Delete(ctx, mdbDocs, created.ID, "127.0.0.1")
		apiError(t, "deleting an entry twice", err, 404, "RESOURCE_NOT_FOUND")

		if _, err := c.ProjectAPIKeys.Unassign(ctx, mdbProd, created.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := c.APIKeys.Delete(ctx, mdbDocs, created.ID); err != nil {
			t.Fatal(err)
		}
		_, _, err = mine.Organizations.List(ctx, nil)
		apiError(t, "a deleted key", err, 401, "USER_UNAUTHORIZED")
		_, _, err = c.APIKeys.Get(ctx, mdbDocs, created.ID)
		apiError(t, "reading a deleted key", err, 404, "RESOURCE_NOT_FOUND")
		_, _, err = c.APIKeys.Create(ctx, mdbDocs, &mongodbatlas.APIKeyInput{Desc: "no roles"})
		apiError(t, "a key without roles", err, 400, "VALIDATION_ERROR")
	})
}

// hsKeysIn counts the fixture keys bound to the organization, as the mock
// starts: what a walk over its key list must yield.
func hsKeysIn(t *testing.T, org string) (int, error) {
	t.Helper()
	srv, err := New(Options{Profiles: []*specs.Profile{profileNamed(t, "mongodb-opsmanager")}})
	if err != nil {
		return 0, err
	}
	keys, err := srv.keys.Keys("mongodb-opsmanager")
	n := 0
	for _, k := range keys {
		if boundTo(k, org) {
			n++
		}
	}
	return n, err
}
