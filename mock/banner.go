package mock

import (
	"fmt"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/opsconform/opsconform/fixtures"
	"github.com/opsconform/opsconform/specs"
)

// Demo is a ready-to-paste curl command for a profile, using its fixture key
// labelled "demo", so a newcomer can try the mock in ten seconds.
type Demo struct {
	Profile string
	Scheme  string // the security scheme shown; empty for a vendor profile's one line
	Curl    string
}

// BaseURL is the URL a client on this machine uses to reach a listener on
// addr: a listener on every interface (0.0.0.0, [::]) is reached through
// 127.0.0.1, since "0.0.0.0" and "[::]" are addresses to listen on, not to
// connect to. The loopback names are one tenant to the mock, so the demo
// keys bound to 127.0.0.1 work through any of them.
func BaseURL(scheme string, addr net.Addr) string {
	tcp, ok := addr.(*net.TCPAddr)
	if !ok {
		return scheme + "://" + addr.String()
	}
	ip := tcp.IP
	if ip.IsUnspecified() {
		// A "tcp" listener on [::] is dual-stack: IPv4 loopback reaches it too.
		ip = net.IPv4(127, 0, 0, 1)
	}
	return scheme + "://" + net.JoinHostPort(ip.String(), fmt.Sprint(tcp.Port))
}

// Demos lists one curl command per profile that has a demo key; curlArgs
// go right after "curl -s" (-k for a self-signed certificate). The
// commands carry the demo key in clear: they are printed for a person to
// paste, never written to the request log.
func (s *Server) Demos(base string, curlArgs ...string) []Demo {
	var out []Demo
	for _, p := range s.profiles {
		set := s.fixtures[p.Name]
		if !p.Extended {
			out = append(out, s.schemeDemos(p, set, base)...)
			continue
		}
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
			curl := strings.Join(append([]string{"curl", "-s"}, curlArgs...), " ")
			out = append(out, Demo{Profile: p.Name, Curl: strings.TrimSpace(fmt.Sprintf(`%s %s "%s"`, curl, cred, url))})
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

// schemeDemos are a plain spec's curl lines: one per security scheme, on an
// operation that accepts it, presenting the demo key every way its
// alternative needs.
func (s *Server) schemeDemos(p *specs.Profile, set *fixtures.Set, base string) []Demo {
	var k *fixtures.Key
	for i := range set.Keys {
		if slices.Contains(set.Keys[i].Labels, "demo") {
			k = &set.Keys[i]
			break
		}
	}
	var out []Demo
	if k == nil {
		if op := demoOperation(p); op != nil {
			out = append(out, Demo{Profile: p.Name, Curl: fmt.Sprintf(`curl -s "%s%s"`, base, op.Path)})
		}
		return out
	}
	for _, sc := range p.Auth.Schemes {
		if sc.Mode == specs.AuthMutualTLS {
			continue
		}
		op, alt := demoFor(p, sc)
		if op == nil {
			continue
		}
		var args []string
		query := url.Values{}
		for _, req := range alt {
			args = append(args, curlCredential(req.Scheme, *k, query)...)
		}
		u := base + op.Path
		if len(query) > 0 {
			u += "?" + query.Encode()
		}
		args = append(args, fmt.Sprintf("%q", u))
		out = append(out, Demo{Profile: p.Name, Scheme: sc.Name, Curl: "curl -s " + strings.Join(args, " ")})
	}
	return out
}

// demoFor finds an operation to demonstrate sc on, preferring a GET without
// parameters, and the alternative of its security that includes sc.
func demoFor(p *specs.Profile, sc *specs.Scheme) (*specs.Operation, specs.Alternative) {
	var fallback *specs.Operation
	var fallbackAlt specs.Alternative
	for _, op := range p.Operations {
		for _, alt := range op.Security {
			if !slices.ContainsFunc(alt, func(r specs.Requirement) bool { return r.Scheme == sc }) {
				continue
			}
			if op.Method == http.MethodGet && demoOperation(&specs.Profile{Operations: []*specs.Operation{op}}) != nil {
				return op, alt
			}
			if fallback == nil {
				fallback, fallbackAlt = op, alt
			}
		}
	}
	return fallback, fallbackAlt
}

// curlCredential is how curl presents key k under scheme sc; query
// parameters go into query.
func curlCredential(sc *specs.Scheme, k fixtures.Key, query url.Values) []string {
	switch sc.Mode {
	case specs.AuthAPIKey:
		v := strings.ReplaceAll(sc.Format, "{key}", k.Secret)
		switch sc.In {
		case "query":
			query.Set(sc.Param, v)
			return nil
		case "cookie":
			return []string{fmt.Sprintf(`--cookie "%s=%s"`, sc.Param, v)}
		}
		return []string{fmt.Sprintf(`-H "%s: %s"`, sc.Param, v)}
	case specs.AuthBearer:
		return []string{fmt.Sprintf(`-H "Authorization: Bearer %s"`, k.Secret)}
	case specs.AuthBasic:
		return []string{fmt.Sprintf(`-u "%s:%s"`, k.PublicKey, k.PrivateKey)}
	case specs.AuthDigest:
		return []string{fmt.Sprintf(`--digest -u "%s:%s"`, k.PublicKey, k.PrivateKey)}
	case specs.AuthHTTP:
		return []string{fmt.Sprintf(`-H "Authorization: %s %s"`, schemeWord(sc), k.Secret)}
	}
	return nil
}
