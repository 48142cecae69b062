package mock

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/opsconform/opsconform/fixtures"
	"github.com/opsconform/opsconform/specs"
)

// TestNoSecretInLogs runs traffic of every kind (good keys, bad keys, query
// keys, created and regenerated keys) and greps the log and the request log
// for every secret involved.
func TestNoSecretInLogs(t *testing.T) {
	h := newHarness(t)
	var secrets []string
	for _, p := range embeddedProfiles(t) {
		set, err := fixtures.Load(fixtures.Embedded(), p.Name)
		if err != nil {
			t.Fatal(err)
		}
		for _, k := range set.Keys {
			secret := k.Secret
			if p.Auth.Mode == specs.AuthDigest {
				secret = k.PrivateKey
			}
			secrets = append(secrets, secret)
			hdr, client := credentials(p, secret, k.PublicKey)
			h.doWith(client, "GET", probePath[p.Name], hdr, "")
		}
		var created struct {
			Key    Key    `json:"key"`
			Secret string `json:"secret"`
		}
		h.control("POST", "profiles/"+p.Name+"/keys", `{"name":"temp"}`, &created)
		secrets = append(secrets, created.Secret)
		var regen struct{ Secret string }
		h.control("POST", "profiles/"+p.Name+"/keys/"+created.Key.ID+"/regenerate", "", &regen)
		secrets = append(secrets, regen.Secret)
		hdr, client := credentials(p, regen.Secret, created.Key.PublicKey)
		h.doWith(client, "GET", probePath[p.Name], hdr, "")
	}
	opm := fixtureKey(t, "opmanager", "full")
	h.do("GET", "/api/json/v2/device/listDevices?apiKey="+opm.Secret+"&rows=5", nil, "")
	h.do("GET", "/api/json/alarm/listAlarms?apiKey="+opm.Secret, nil, "")
	h.do("GET", "/api/v1/agents", http.Header{"Authorization": {"Bearer " + fixtureKey(t, "opsmerge", "full").Secret + "x"}}, "")

	var reqLog []Request
	h.control("GET", "requests", "", &reqLog)
	recorded, _ := json.Marshal(reqLog)
	logs := h.logBuf.String()
	if len(reqLog) < 20 || !strings.Contains(logs, "apiKey=REDACTED") {
		t.Fatalf("the run logged too little to prove anything (%d requests):\n%s", len(reqLog), logs)
	}
	for _, sec := range secrets {
		if sec == "" {
			t.Fatal("a secret is empty: the set-up failed")
		}
		if strings.Contains(logs, sec) {
			t.Errorf("the log contains secret …%s", sec[len(sec)-4:])
		}
		if strings.Contains(string(recorded), sec) {
			t.Errorf("the request log contains secret …%s", sec[len(sec)-4:])
		}
	}
}
