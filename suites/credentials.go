// Package suites checks that an implementation behaves as a profile
// documents. Every check is a named requirement with a citation; the
// catalogue is generated from the behaviour model, so a new profile gets the
// generic checks without new code.
package suites

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"

	"github.com/opsconform/opsconform/fixtures"
	"github.com/opsconform/opsconform/specs"
	"go.yaml.in/yaml/v4"
)

// Credential is one key the suite may use, named by what it is for.
type Credential struct {
	Secret     string         `yaml:"secret" json:"secret"`         // bearer token, apikey or Reference ID
	PublicKey  string         `yaml:"publicKey" json:"publicKey"`   // digest or basic user name
	PrivateKey string         `yaml:"privateKey" json:"privateKey"` // digest or basic password
	Lacks      *fixtures.Lack `yaml:"lacks" json:"lacks"`           // for limited and role-bounded keys: an operation that must answer 403
	// Scopes are what the key grants (family:level scopes, module scopes,
	// operation:<id> grants, or bound roles such as ORG_OWNER@<orgId>), and
	// Role is its owner's role. With them the suite works out, for every
	// operation, whether the key must be refused with 403.
	Scopes []string `yaml:"scopes" json:"scopes"`
	Role   string   `yaml:"role" json:"role"`
}

// Credentials are a profile's keys by role (full, second, limited,
// role-bounded, revoked, expired, disabled, owner-deactivated, other-tenant,
// other-ip) and values for path parameters that exist on the target.
type Credentials struct {
	Params map[string]string     `yaml:"params"`
	Keys   map[string]Credential `yaml:"keys"`
}

// CredentialsFile is the --credentials file: credentials per profile.
//
//	profiles:
//	  opsmerge:
//	    keys:
//	      full: {secret: om_…}
//	      limited: {secret: om_…, lacks: {operation: listTickets}}
type CredentialsFile struct {
	Profiles map[string]*Credentials `yaml:"profiles"`
}

// LoadCredentials reads a credentials file.
func LoadCredentials(path string) (*CredentialsFile, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("credentials: %w", err)
	}
	var f CredentialsFile
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&f); err != nil {
		return nil, fmt.Errorf("credentials: %s: %v", path, err)
	}
	for name, c := range f.Profiles {
		if c == nil {
			return nil, fmt.Errorf("credentials: %s: profile %s has no keys", path, name)
		}
		for role, k := range c.Keys {
			if k.Secret == "" && (k.PublicKey == "" || k.PrivateKey == "") {
				return nil, fmt.Errorf("credentials: %s: %s.keys.%s needs a secret, or a publicKey and privateKey", path, name, role)
			}
		}
	}
	return &f, nil
}

// FixtureCredentials are the credentials that match the embedded mock's
// fixtures: every labelled key under each of its labels.
func FixtureCredentials(p *specs.Profile) (*Credentials, error) {
	set, err := fixtures.Load(fixtures.Embedded(), p.Name)
	if err != nil {
		return nil, err
	}
	c := &Credentials{Params: set.Params, Keys: map[string]Credential{}}
	roles := map[string]string{}
	for _, u := range set.Users {
		roles[u.ID] = u.Role
	}
	for _, k := range set.Keys {
		role := k.Role
		if role == "" {
			role = roles[k.Owner]
		}
		for _, l := range k.Labels {
			if _, taken := c.Keys[l]; !taken {
				c.Keys[l] = Credential{Secret: k.Secret, PublicKey: k.PublicKey, PrivateKey: k.PrivateKey, Lacks: k.Lacks, Scopes: k.Scopes, Role: role}
			}
		}
	}
	return c, nil
}

// mockCredentials asks the mock's control API for a profile's demo
// credentials (minted at start for a spec without fixtures).
func (e *env) mockCredentials() (*Credentials, error) {
	client := &http.Client{Transport: e.base, Timeout: e.timeout}
	req, err := http.NewRequestWithContext(e.ctx, http.MethodGet, e.target.String()+"/__opsconform/profiles/"+url.PathEscape(e.profile.Name)+"/credentials", nil)
	if err != nil {
		return nil, err
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("the mock's credentials for %s: %s", e.profile.Name, resp.Status)
	}
	var c Credentials
	if err := json.NewDecoder(resp.Body).Decode(&struct {
		Params *map[string]string     `json:"params"`
		Keys   *map[string]Credential `json:"keys"`
	}{&c.Params, &c.Keys}); err != nil {
		return nil, fmt.Errorf("the mock's credentials for %s: %v", e.profile.Name, err)
	}
	return &c, nil
}
