package mock

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	mongodigest "github.com/mongodb-forks/digest"
	"github.com/opsconform/opsconform/specs"
)

// corpusMock serves one corpus spec on loopback, with its minted demo credentials.
func corpusMock(t *testing.T, file string) (*httptest.Server, *specs.Profile, DemoCredential) {
	t.Helper()
	p, err := specs.LoadFile("../specs/testdata/corpus/" + file)
	if err != nil {
		t.Fatal(err)
	}
	srv, err := New(Options{Profiles: []*specs.Profile{p}, Seed: 3})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv)
	t.Cleanup(hs.Close)
	var creds struct {
		Keys map[string]DemoCredential `json:"keys"`
		Curl []string                  `json:"curl"`
	}
	resp, err := http.Get(hs.URL + ControlPrefix + "profiles/" + p.Name + "/credentials")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(&creds); err != nil {
		t.Fatal(err)
	}
	return hs, p, creds.Keys["full"]
}

func call(t *testing.T, client *http.Client, method, u string, header http.Header, body string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, u, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(data)
}

// TestSecurityAsOpenAPIDefinesIt: every scheme kind, AND within an
// alternative, OR between them, optional security and oauth2 scopes.
func TestSecurityAsOpenAPIDefinesIt(t *testing.T) {
	hs, _, k := corpusMock(t, "security-showcase-31.yaml")
	if k.Secret == "" || k.PublicKey == "" || k.PrivateKey == "" {
		t.Fatalf("the minted demo key lacks a secret or a user name and password: %+v", k)
	}
	basic := "Basic " + base64.StdEncoding.EncodeToString([]byte(k.PublicKey+":"+k.PrivateKey))
	h := func(kv ...string) http.Header {
		out := http.Header{}
		for i := 0; i+1 < len(kv); i += 2 {
			out.Add(kv[i], kv[i+1])
		}
		return out
	}
	tests := []struct {
		name, path string
		header     http.Header
		want       int
	}{
		{"header key", "/header-key", h("X-API-Key", k.Secret), 200},
		{"header key missing", "/header-key", nil, 401},
		{"header key wrong", "/header-key", h("X-API-Key", "nope"), 401},
		{"query key", "/query-key?api_key=" + url.QueryEscape(k.Secret), nil, 200},
		{"query key in a header", "/query-key", h("api_key", k.Secret), 401},
		{"cookie key", "/cookie-key", h("Cookie", "session="+k.Secret), 200},
		{"cookie key wrong", "/cookie-key", h("Cookie", "session=nope"), 401},
		{"basic", "/basic", h("Authorization", basic), 200},
		{"basic wrong password", "/basic", h("Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte(k.PublicKey+":x"))), 401},
		{"basic malformed", "/basic", h("Authorization", "Basic !!!"), 401},
		{"bearer", "/bearer", h("Authorization", "Bearer "+k.Secret), 200},
		{"bearer for basic", "/basic", h("Authorization", "Bearer "+k.Secret), 401},
		{"oauth2 with the scope", "/oauth", h("Authorization", "Bearer "+k.Secret), 200},
		{"openIdConnect", "/oidc", h("Authorization", "Bearer "+k.Secret), 200},
		{"AND: both", "/both", h("X-API-Key", k.Secret, "Cookie", "session="+k.Secret), 200},
		{"AND: one of two", "/both", h("X-API-Key", k.Secret), 401},
		{"OR: the first", "/either?api_key=" + url.QueryEscape(k.Secret), nil, 200},
		{"OR: the second", "/either", h("Authorization", basic), 200},
		{"OR: neither", "/either", nil, 401},
		{"optional: none", "/optional", nil, 200},
		{"digest unsigned", "/digest", nil, 401},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got, body := call(t, http.DefaultClient, "GET", hs.URL+tt.path, tt.header, ""); got != tt.want {
				t.Errorf("GET %s: %d %s, want %d", tt.path, got, body, tt.want)
			}
		})
	}
	t.Run("digest signed", func(t *testing.T) {
		client := &http.Client{Transport: &mongodigest.Transport{Username: k.PublicKey, Password: k.PrivateKey, Transport: http.DefaultTransport}}
		if got, body := call(t, client, "GET", hs.URL+"/digest", nil, ""); got != 200 {
			t.Errorf("digest: %d %s", got, body)
		}
	})
	t.Run("a scope the key lacks", func(t *testing.T) {
		var creds struct {
			Keys map[string]DemoCredential `json:"keys"`
		}
		resp, _ := http.Get(hs.URL + ControlPrefix + "profiles/security-showcase-31/credentials")
		_ = json.NewDecoder(resp.Body).Decode(&creds)
		resp.Body.Close()
		limited := creds.Keys["limited"]
		if limited.Secret == "" || limited.Lacks == nil {
			t.Fatalf("no limited key: %+v", creds.Keys)
		}
		if got, body := call(t, http.DefaultClient, "GET", hs.URL+"/oauth", h("Authorization", "Bearer "+limited.Secret), ""); got != 403 {
			t.Errorf("a key without reports:read: %d %s, want 403", got, body)
		}
	})
}

// TestRequestBodiesAsOpenAPIDefinesThem: a discriminator picks the oneOf
// branch (overlapping branches do not refuse valid bodies), forms and
// multipart bodies are validated, and a stray nullable under 3.1 is ignored.
func TestRequestBodiesAsOpenAPIDefinesThem(t *testing.T) {
	disc, _, _ := corpusMock(t, "discriminators-30.yaml")
	media, _, _ := corpusMock(t, "media-types-31.yaml")
	pets, _, pk := corpusMock(t, "petstore-31.json")
	jsonCT := http.Header{"Content-Type": {"application/json"}}
	form := http.Header{"Content-Type": {"application/x-www-form-urlencoded"}}
	multi := func(fields map[string]string) (http.Header, string) {
		var sb strings.Builder
		w := multipart.NewWriter(&sb)
		for k, v := range fields {
			_ = w.WriteField(k, v)
		}
		_ = w.Close()
		return http.Header{"Content-Type": {w.FormDataContentType()}}, sb.String()
	}
	goodUpload, goodBody := multi(map[string]string{"title": "holiday", "category": "photo"})
	badUpload, badBody := multi(map[string]string{"title": "holiday"})
	tests := []struct {
		name, url, method string
		header            http.Header
		body              string
		want              int
	}{
		{"a cat that also fits Dog", disc.URL + "/animals", "POST", jsonCT, `{"id":1,"name":"Tom","petType":"cat","livesLeft":7}`, 201},
		{"a dog", disc.URL + "/animals", "POST", jsonCT, `{"id":2,"name":"Rex","petType":"dog","goodBoy":true}`, 201},
		{"a value no branch maps", disc.URL + "/animals", "POST", jsonCT, `{"id":3,"name":"Daisy","petType":"cow"}`, 400},
		{"a cat without its name", disc.URL + "/animals", "POST", jsonCT, `{"id":4,"petType":"cat"}`, 400},
		{"implicit mapping by schema name", disc.URL + "/vehicles", "POST", jsonCT, `{"kind":"Car","wheels":4}`, 200},
		{"implicit mapping, wrong branch", disc.URL + "/vehicles", "POST", jsonCT, `{"kind":"Car","wheels":2}`, 400},
		{"a form", media.URL + "/contact", "POST", form, "email=a%40example.com&message=hello+there", 204},
		{"a form breaking its schema", media.URL + "/contact", "POST", form, "email=a%40example.com&message=hi", 400},
		{"a form without a required field", media.URL + "/contact", "POST", form, "message=hello+there", 400},
		{"multipart", media.URL + "/uploads", "POST", goodUpload, goodBody, 201},
		{"multipart without a required field", media.URL + "/uploads", "POST", badUpload, badBody, 400},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got, body := call(t, http.DefaultClient, tt.method, tt.url, tt.header, tt.body); got != tt.want {
				t.Errorf("%s %s: %d %s, want %d", tt.method, tt.url, got, body, tt.want)
			}
		})
	}
	t.Run("3.1 with a stray nullable", func(t *testing.T) {
		h := http.Header{"Content-Type": {"application/json"}, "Authorization": {"Bearer " + pk.Secret}}
		if got, body := call(t, http.DefaultClient, "POST", pets.URL+"/v2/pets", h, `{"name":"Rex","born":"2020-01-02"}`); got != 201 {
			t.Errorf("POST /pets: %d %s, want 201", got, body)
		}
	})
}

// TestGenericCRUDKeepsTheBody: a POST stores the body's fields (its id too,
// when the client sends one), and the list, GET, PATCH and DELETE agree.
func TestGenericCRUDKeepsTheBody(t *testing.T) {
	hs, _, k := corpusMock(t, "petstore-30.yaml")
	auth := http.Header{"Authorization": {"Bearer " + k.Secret}, "Content-Type": {"application/json"}}
	key := http.Header{"api_key": {k.Secret}}
	if got, body := call(t, http.DefaultClient, "POST", hs.URL+"/api/v3/pet", auth, `{"id":5,"name":"Bob","photoUrls":["a"]}`); got != 200 || !strings.Contains(body, `"name":"Bob"`) || !strings.Contains(body, `"id":5`) {
		t.Fatalf("create: %d %s", got, body)
	}
	if got, body := call(t, http.DefaultClient, "GET", hs.URL+"/api/v3/pet/5", key, ""); got != 200 || !strings.Contains(body, `"name":"Bob"`) {
		t.Errorf("read back: %d %s", got, body)
	}
	if got, _ := call(t, http.DefaultClient, "DELETE", hs.URL+"/api/v3/pet/5", auth, ""); got >= 500 {
		t.Errorf("delete: %d", got)
	}
	if got, body := call(t, http.DefaultClient, "GET", hs.URL+"/api/v3/pet/5", key, ""); got != 404 {
		t.Errorf("after delete: %d %s, want 404", got, body)
	}
	nested, _, nk := corpusMock(t, "crud-nested-30.yaml")
	basic := http.Header{"Authorization": {"Basic " + base64.StdEncoding.EncodeToString([]byte(nk.PublicKey+":"+nk.PrivateKey))}, "Content-Type": {"application/json"}}
	got, body := call(t, http.DefaultClient, "POST", nested.URL+"/api/users/1/posts", basic, `{"postId":"7b0e2b7e-1a52-4c41-9d5b-7a8e3c1f2a90","title":"Hello"}`)
	if got != 201 {
		t.Fatalf("create a post: %d %s", got, body)
	}
	if got, body := call(t, http.DefaultClient, "PATCH", nested.URL+"/api/users/1/posts/7b0e2b7e-1a52-4c41-9d5b-7a8e3c1f2a90", basic, `{"title":"Edited"}`); got != 200 || !strings.Contains(body, `"title":"Edited"`) {
		t.Errorf("patch: %d %s", got, body)
	}
	if got, body := call(t, http.DefaultClient, "GET", nested.URL+"/api/users/1/posts", basic, ""); got != 200 || !strings.Contains(body, "Edited") {
		t.Errorf("list after patch: %d %s", got, body)
	}
}

// TestHostileSchemasCannotTakeTheMockDown: schemas asking for a trillion
// items or hundred-megabyte strings get capped answers, fast, and other
// requests are served meanwhile.
func TestHostileSchemasCannotTakeTheMockDown(t *testing.T) {
	p, err := specs.Load("hostile.yaml", []byte(`openapi: 3.1.0
info: {title: Hostile, version: "1"}
paths:
  /huge-array:
    get:
      responses:
        "200": {description: ok, content: {application/json: {schema: {type: array, minItems: 1000000000000, items: {type: string}}}}}
  /huge-string:
    get:
      responses:
        "200": {description: ok, content: {application/json: {schema: {type: string, minLength: 100000000}}}}
  /wide:
    get:
      responses:
        "200": {description: ok, content: {application/json: {schema: {$ref: "#/components/schemas/Wide"}}}}
  /items:
    get:
      responses:
        "200": {description: ok, content: {application/json: {schema: {type: array, items: {$ref: "#/components/schemas/Wide"}}}}}
  /ping:
    get:
      responses:
        "200": {description: ok, content: {application/json: {schema: {type: object, nullable: true, foo: bar, properties: {ok: {type: boolean}}}}}}
components:
  schemas:
    Wide:
      type: object
      required: [a, b, id]
      properties:
        id: {type: integer}
        a: {type: array, minItems: 50, items: {$ref: "#/components/schemas/Wide"}}
        b: {type: string, minLength: 5000, pattern: "^x+$"}
`))
	if err != nil {
		t.Fatal(err)
	}
	srv, err := New(Options{Profiles: []*specs.Profile{p}})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv)
	defer hs.Close()
	client := &http.Client{Timeout: 60 * time.Second}
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for _, path := range []string{"/huge-array", "/huge-string", "/wide", "/items", "/ping"} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			start := time.Now()
			resp, err := client.Get(hs.URL + path)
			if err != nil {
				errs <- fmt.Errorf("%s: %v", path, err)
				return
			}
			n, _ := io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 200 || n > 64<<20 || time.Since(start) > 45*time.Second {
				errs <- fmt.Errorf("%s: %d, %d bytes in %s", path, resp.StatusCode, n, time.Since(start))
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}
