package suites

import (
	"encoding/json"
	"fmt"
	"mime"
	"net/http"
	"net/url"
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
