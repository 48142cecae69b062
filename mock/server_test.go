package mock

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/opsconform/opsconform/specs"
)

func TestControlHealthAndProfiles(t *testing.T) {
	ps, err := specs.LoadEmbedded()
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(New(ps))
	defer srv.Close()

	resp, err := http.Get(srv.URL + ControlPrefix + "health")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Errorf("health = %d", resp.StatusCode)
	}

	resp, err = http.Get(srv.URL + ControlPrefix + "profiles")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var got []profileInfo
	if err := json.NewDecoder(resp.Body).Decode(&got); err != nil {
		t.Fatal(err)
	}
	if len(got) != 4 {
		t.Fatalf("%d profiles, want 4", len(got))
	}
	for _, p := range got {
		if len(p.Operations) == 0 || p.Auth == "" || p.Pagination == "" || p.RateLimits == "" {
			t.Errorf("profile %+v is missing facts", p)
		}
	}
}
