package specs

import (
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"strings"
)

// ErrorKind is why a request failed, independent of how a vendor writes it.
type ErrorKind string

// The error kinds every profile maps to a status, code and message.
const (
	Unauthenticated  ErrorKind = "unauthenticated"
	Forbidden        ErrorKind = "forbidden"
	NotFound         ErrorKind = "not-found"
	MethodNotAllowed ErrorKind = "method-not-allowed"
	InvalidParameter ErrorKind = "invalid-parameter"
	InvalidBody      ErrorKind = "invalid-body"
	RateLimited      ErrorKind = "rate-limited"
	Internal         ErrorKind = "internal"
	// AddressRefused is a known key used from an address its binding or
	// access list does not allow (MongoDB's 403 IP_ADDRESS_NOT_ON_ACCESS_LIST).
	// A profile that does not map it answers as for unauthenticated.
	AddressRefused ErrorKind = "address-refused"
)

// ErrorKinds lists every kind a profile must map, in a stable order.
var ErrorKinds = []ErrorKind{Unauthenticated, Forbidden, NotFound, MethodNotAllowed, InvalidParameter, InvalidBody, RateLimited, Internal}

// optionalKinds may be mapped; each falls back to another kind's spec when
// it is not (see Errors.Spec).
var optionalKinds = map[ErrorKind]ErrorKind{AddressRefused: Unauthenticated}

// defaultErrorStatus is the status a kind gets when a spec does not say.
var defaultErrorStatus = map[ErrorKind]int{
	Unauthenticated:  http.StatusUnauthorized,
	Forbidden:        http.StatusForbidden,
	NotFound:         http.StatusNotFound,
	MethodNotAllowed: http.StatusMethodNotAllowed,
	InvalidParameter: http.StatusBadRequest,
	InvalidBody:      http.StatusBadRequest,
	RateLimited:      http.StatusTooManyRequests,
	Internal:         http.StatusInternalServerError,
	AddressRefused:   http.StatusUnauthorized,
}

// ErrorSpec is how a profile reports one kind of error.
type ErrorSpec struct {
	Status  int
	Code    string // machine-readable code; empty when the vendor has none
	Message string // the default human-readable message
}

// Errors is a profile's error envelope: a body template and a spec per kind.
//
// The template is JSON-shaped data in which these strings are placeholders:
// $status (the HTTP status, a number), $code, $message, $reason (the status
// phrase), $messages (the message as a one-element list) and $parameters
// (the names of the offending parameters, a list).
type Errors struct {
	Template    any
	Kinds       map[ErrorKind]ErrorSpec
	ContentType string
}

// placeholders are the names a template may use.
var placeholders = map[string]bool{
	"$status": true, "$code": true, "$message": true, "$reason": true, "$messages": true, "$parameters": true,
}

// defaultErrors is the envelope of a spec without x-opsconform-errors:
// RFC 9457 problem details, which is what a generic API most likely speaks.
func defaultErrors() Errors {
	e := Errors{
		Template: map[string]any{
			"type":   "about:blank",
			"title":  "$reason",
			"status": "$status",
			"detail": "$message",
		},
		Kinds:       map[ErrorKind]ErrorSpec{},
		ContentType: "application/problem+json",
	}
	for _, k := range ErrorKinds {
		st := defaultErrorStatus[k]
		e.Kinds[k] = ErrorSpec{Status: st, Message: http.StatusText(st)}
	}
	return e
}

// Spec returns the spec for a kind.
func (e *Errors) Spec(kind ErrorKind) ErrorSpec {
	if s, ok := e.Kinds[kind]; ok {
		return s
	}
	if fallback, ok := optionalKinds[kind]; ok {
		return e.Spec(fallback)
	}
	st := defaultErrorStatus[kind]
	if st == 0 {
		st = http.StatusInternalServerError
	}
	return ErrorSpec{Status: st, Message: http.StatusText(st)}
}

// Render builds the error body for kind. An empty message uses the kind's
// default; params names the offending parameters, where there are any.
func (e *Errors) Render(kind ErrorKind, message string, params ...string) (status int, body []byte) {
	s := e.Spec(kind)
	if message == "" {
		message = s.Message
	}
	if params == nil {
		params = []string{}
	}
	v := fill(e.Template, s, message, params)
	body, err := json.Marshal(v)
	if err != nil {
		// Templates are validated at load to be JSON-shaped; reaching this is a bug in fill.
		panic(fmt.Sprintf("specs: error template does not marshal: %v", err))
	}
	return s.Status, body
}

// RenderStatus is Render for an answer whose status is not its kind's (413
// for an oversized body, 431 for oversized headers): the body's $status and
// $reason then agree with the status line, while the code stays the kind's.
func (e *Errors) RenderStatus(kind ErrorKind, status int, message string, params ...string) []byte {
	s := e.Spec(kind)
	s.Status = status
	if message == "" {
		message = http.StatusText(status)
	}
	if params == nil {
		params = []string{}
	}
	body, err := json.Marshal(fill(e.Template, s, message, params))
	if err != nil {
		panic(fmt.Sprintf("specs: error template does not marshal: %v", err))
	}
	return body
}

func fill(t any, s ErrorSpec, message string, params []string) any {
	switch v := t.(type) {
	case map[string]any:
		out := make(map[string]any, len(v))
		for k, x := range v {
			out[k] = fill(x, s, message, params)
		}
		return out
	case []any:
		out := make([]any, len(v))
		for i, x := range v {
			out[i] = fill(x, s, message, params)
		}
		return out
	case string:
		switch v {
		case "$status":
			return s.Status
		case "$code":
			return s.Code
		case "$message":
			return message
		case "$reason":
			return http.StatusText(s.Status)
		case "$messages":
			return []string{message}
		case "$parameters":
			return params
		}
	}
	return t
}

// checkTemplate reports the first problem with an error template: a value
// that is not JSON-shaped or a $placeholder it does not know.
func checkTemplate(t any, path string) error {
	switch v := t.(type) {
	case map[string]any:
		keys := make([]string, 0, len(v))
		for k := range v {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			if err := checkTemplate(v[k], path+"."+k); err != nil {
				return err
			}
		}
	case []any:
		for i, x := range v {
			if err := checkTemplate(x, fmt.Sprintf("%s[%d]", path, i)); err != nil {
				return err
			}
		}
	case string:
		if strings.HasPrefix(v, "$") && !placeholders[v] {
			return fmt.Errorf("%s: unknown placeholder %q (want one of $status, $code, $message, $reason, $messages, $parameters)", path, v)
		}
	case nil, bool, int, int64, uint64, float64:
	default:
		return fmt.Errorf("%s: %T is not a JSON value", path, t)
	}
	return nil
}

// Match reports how body differs from the error envelope for kind: the same
// structure as the template, the kind's code and status where the template
// carries them, any non-empty message, any list of parameters. nil when it matches.
func (e *Errors) Match(kind ErrorKind, body []byte) error {
	const marker = "\x00message\x00"
	_, want := e.Render(kind, marker)
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
			return fmt.Errorf("%s: want an object with %s", path, strings.Join(sortedKeys(w), ", "))
		}
		for _, k := range sortedKeys(w) {
			if _, has := g[k]; !has {
				return fmt.Errorf("%s: field %q is missing", path, k)
			}
			if err := shapeDiff(w[k], g[k], path+"."+k, marker); err != nil {
				return err
			}
		}
		for _, k := range sortedKeys(g) {
			if _, has := w[k]; !has {
				return fmt.Errorf("%s: field %q is not in the documented envelope", path, k)
			}
		}
		return nil
	case []any:
		// $messages and $parameters: lists whose length depends on the error.
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
