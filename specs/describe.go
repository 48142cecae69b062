package specs

import (
	"fmt"
	"sort"
	"strings"
	"time"
)

// Describe summarises the auth mode in a few words: "bearer om_…",
// "apikey header apikey | query apiKey", "digest MD5,SHA-256".
func (a *Auth) Describe() string {
	if a.Mixed() {
		var parts []string
		for _, s := range a.Schemes {
			parts = append(parts, s.Describe())
		}
		return strings.Join(parts, " | ")
	}
	switch a.Mode {
	case AuthBearer:
		return "bearer " + a.TokenPrefix + "…"
	case AuthDigest:
		d := "digest " + strings.Join(a.Digest.Algorithms, ",")
		if a.BindIP {
			d += " (bound to ip)"
		}
		return d
	case AuthBasic, AuthHTTP, AuthMutualTLS:
		return a.Primary().Describe()
	case AuthAPIKey:
		var parts []string
		for _, s := range a.Schemes {
			v := s.In + " " + s.Param
			if s.Format != "{key}" {
				v += ": " + strings.ReplaceAll(s.Format, "{key}", "…")
			}
			parts = append(parts, v)
		}
		d := "apikey " + strings.Join(parts, " | ")
		var binds []string
		if a.BindTenant {
			binds = append(binds, "tenant")
		}
		if a.BindIP {
			binds = append(binds, "ip")
		}
		if len(binds) > 0 {
			d += " (bound to " + strings.Join(binds, ", ") + ")"
		}
		return d
	}
	return "none"
}

// DescribeEnvelope summarises the success and error envelopes: `{"data":…}; error {"error":{code,message}}`.
func (p *Profile) DescribeEnvelope() string {
	ok := "bare"
	if p.Envelope.Success != "" {
		ok = fmt.Sprintf("{%q:…}", p.Envelope.Success)
	}
	if p.Envelope.EnvelopeParam != "" {
		ok += " (" + p.Envelope.EnvelopeParam + "=true wraps)"
	}
	return ok + "; error " + shape(p.Errors.Template)
}

// shape renders a template's structure without its values: {"error":{code,message}}.
func shape(t any) string {
	m, ok := t.(map[string]any)
	if !ok {
		return "…"
	}
	keys := sortedKeys(m)
	var parts []string
	for _, k := range keys {
		if sub, ok := m[k].(map[string]any); ok {
			parts = append(parts, fmt.Sprintf("%q:%s", k, shape(sub)))
		} else {
			parts = append(parts, k)
		}
	}
	return "{" + strings.Join(parts, ",") + "}"
}

// Describe summarises pagination: "page/per_page 1,50 max 100 (reject) stop total-items".
func (pg *Pagination) Describe() string {
	if pg == nil {
		return "none"
	}
	first := pg.Page
	if pg.Style == StyleOffset {
		first = pg.Skip
	}
	d := fmt.Sprintf("%s/%s default %d,%d", first.Param, pg.Size.Param, first.Default, pg.Size.Default)
	if pg.Size.Max > 0 {
		d += fmt.Sprintf(" max %d (%s)", pg.Size.Max, pg.Overflow)
	}
	return d + ", stop at " + string(pg.Stop)
}

// Describe summarises the rate limits: "default 300/1m per key, X-RateLimit-*".
func (r *RateLimits) Describe() string {
	if len(r.Classes) == 0 {
		return "none"
	}
	names := make([]string, 0, len(r.Classes))
	for n := range r.Classes {
		names = append(names, n)
	}
	sort.Strings(names)
	var parts []string
	for _, n := range names {
		c := r.Classes[n]
		parts = append(parts, fmt.Sprintf("%s %d/%s", n, c.Limit, shortDuration(c.Window)))
	}
	d := strings.Join(parts, ", ") + " per " + r.Per
	if r.Headers == HeadersXRateLimit {
		d += ", X-RateLimit-*"
	}
	return d
}

// shortDuration prints 1m and 90s rather than Go's 1m0s and 1m30s.
func shortDuration(d time.Duration) string {
	switch {
	case d >= time.Hour && d%time.Hour == 0:
		return fmt.Sprintf("%dh", d/time.Hour)
	case d >= time.Minute && d%time.Minute == 0:
		return fmt.Sprintf("%dm", d/time.Minute)
	case d%time.Second == 0:
		return fmt.Sprintf("%ds", d/time.Second)
	}
	return d.String()
}

// Describe summarises one scheme: "header X-API-Key", "bearer", "oauth2 (3 scopes)".
func (s *Scheme) Describe() string {
	switch s.Mode {
	case AuthAPIKey:
		d := "apikey " + s.In + " " + s.Param
		if s.Format != "{key}" {
			d += ": " + strings.ReplaceAll(s.Format, "{key}", "…")
		}
		return d
	case AuthBearer:
		if s.Type == "oauth2" || s.Type == "openIdConnect" {
			return fmt.Sprintf("%s (bearer, %d scopes)", s.Type, len(s.Scopes))
		}
		return "bearer " + s.TokenPrefix + "…"
	case AuthDigest:
		return "digest " + strings.Join(s.Digest.Algorithms, ",")
	}
	return string(s.Mode)
}
