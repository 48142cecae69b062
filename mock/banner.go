package mock

import (
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/opsconform/opsconform/specs"
)

// Demo is a ready-to-paste curl command for a profile, using its fixture key
// labelled "demo", so a newcomer can try the mock in ten seconds.
type Demo struct {
	Profile string
	Curl    string
}

// Demos lists one curl command per profile that has a demo key. The
// commands carry the demo key in clear: they are printed for a person to
// paste, never written to the request log.
func (s *Server) Demos(base string) []Demo {
	var out []Demo
	for _, p := range s.profiles {
		set := s.fixtures[p.Name]
		for _, k := range set.Keys {
			if !slices.Contains(k.Labels, "demo") {
				continue
			}
			op := demoOperation(p)
			if op == nil {
				break
			}
			url := base + op.Path
			var cred string
			switch p.Auth.Mode {
			case specs.AuthBearer:
				cred = fmt.Sprintf(`-H "Authorization: Bearer %s"`, k.Secret)
			case specs.AuthDigest:
				cred = fmt.Sprintf(`--digest -u "%s:%s"`, k.PublicKey, k.PrivateKey)
			case specs.AuthAPIKey:
				sc := p.Auth.Schemes[0]
				value := strings.ReplaceAll(sc.Format, "{key}", k.Secret)
				if sc.In == "query" {
					url += "?" + sc.Param + "=" + value
				} else {
					cred = fmt.Sprintf(`-H "%s: %s"`, sc.Param, value)
				}
			}
			out = append(out, Demo{Profile: p.Name, Curl: strings.TrimSpace(fmt.Sprintf(`curl -s %s "%s"`, cred, url))})
			break
		}
	}
	return out
}

// demoOperation is the first GET that needs no parameters: something that
// answers with data straight away.
func demoOperation(p *specs.Profile) *specs.Operation {
	for _, op := range p.Operations {
		if op.Method != http.MethodGet {
			continue
		}
		needs := false
		for _, prm := range op.Params {
			if prm.Required || prm.In == "path" {
				needs = true
			}
		}
		if !needs {
			return op
		}
	}
	return nil
}
