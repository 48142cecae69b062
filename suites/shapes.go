package suites

import (
	"encoding/json"
	"fmt"
	"mime"
	"net/http"
	"net/url"
	"sort"
	"strings"

	"github.com/opsconform/opsconform/specs"
)

// probe is the operation most checks use: the first authenticated GET whose
// parameters the credentials can fill, preferring a list.
func (e *env) probe() *specs.Operation {
	var best *specs.Operation
	for _, op := range e.profile.Operations {
		if op.Method != http.MethodGet || op.Public || !e.fillable(op) {
			continue
		}
		if op.Paginated {
			return op
		}
		if best == nil {
			best = op
		}
	}
	return best
}

// fillable reports whether every required parameter has a value the run knows.
func (e *env) fillable(op *specs.Operation) bool {
	for _, p := range op.Params {
		if (p.Required || p.In == "path") && e.creds.Params[p.Name] == "" {
			return false
		}
	}
	return true
}

// path writes op's path with parameters from the credentials' params and extra.
func (e *env) path(op *specs.Operation, extra map[string]string) string {
	values := map[string]string{}
	for k, v := range e.creds.Params {
		values[k] = v
	}
	for k, v := range extra {
		values[k] = v
	}
	path := op.Path
	q := url.Values{}
	for _, p := range op.Params {
		v, ok := values[p.Name]
		if !ok {
			continue
		}
		switch p.In {
		case "path":
			path = strings.ReplaceAll(path, "{"+p.Name+"}", url.PathEscape(v))
		case "query":
			q.Set(p.Name, v)
		}
	}
	if len(q) > 0 {
		path += "?" + q.Encode()
	}
	return path
}

// withQuery adds query parameters to a path that may already have some.
func withQuery(path string, kv ...string) string {
	u, _ := url.Parse(path)
	q := u.Query()
	for i := 0; i+1 < len(kv); i += 2 {
		q.Set(kv[i], kv[i+1])
	}
	u.RawQuery = q.Encode()
	return u.String()
}

// isJSON reports whether a content type is JSON (application/json, problem+json…).
func isJSON(contentType string) bool {
	mt, _, err := mime.ParseMediaType(contentType)
	return err == nil && (mt == "application/json" || strings.HasSuffix(mt, "+json"))
}

// errorShape checks body is the profile's error envelope for kind: the same
// structure as the template, with the kind's code and status where the
// template carries them.
func errorShape(p *specs.Profile, kind specs.ErrorKind, body []byte) error {
	const marker = "\x00message\x00"
	_, want := p.Errors.Render(kind, marker)
	var w, g any
	_ = json.Unmarshal(want, &w)
	if err := json.Unmarshal(body, &g); err != nil {
		return fmt.Errorf("the body is not JSON: %.120q", body)
	}
	return shapeDiff(w, g, "$", marker)
}

func shapeDiff(want, got any, path, marker string) error {
	switch w := want.(type) {
	case map[string]any:
		g, ok := got.(map[string]any)
		if !ok {
			return fmt.Errorf("%s: want an object with %s", path, strings.Join(keys(w), ", "))
		}
		for _, k := range keys(w) {
			if _, has := g[k]; !has {
				return fmt.Errorf("%s: field %q is missing", path, k)
			}
			if err := shapeDiff(w[k], g[k], path+"."+k, marker); err != nil {
				return err
			}
		}
		for _, k := range keys(g) {
			if _, has := w[k]; !has {
				return fmt.Errorf("%s: field %q is not in the documented envelope", path, k)
			}
		}
		return nil
	case []any:
		if _, ok := got.([]any); !ok {
			return fmt.Errorf("%s: want a list", path)
		}
		return nil
	case string:
		if w == marker {
			if s, ok := got.(string); !ok || s == "" {
				return fmt.Errorf("%s: want a non-empty message", path)
			}
			return nil
		}
	}
	wb, _ := json.Marshal(want)
	gb, _ := json.Marshal(got)
	if string(wb) != string(gb) {
		return fmt.Errorf("%s: want %s, got %s", path, wb, gb)
	}
	return nil
}

func keys(m map[string]any) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// unwrap returns the body inside the success envelope.
func (e *env) unwrap(body []byte) (map[string]any, error) {
	var top map[string]any
	if err := json.Unmarshal(body, &top); err != nil {
		return nil, fmt.Errorf("the body is not a JSON object: %.120q", body)
	}
	if f := e.profile.Envelope.Success; f != "" {
		inner, ok := top[f].(map[string]any)
		if !ok {
			return nil, fmt.Errorf("the body is not wrapped in %q", f)
		}
		return inner, nil
	}
	return top, nil
}
