package suites

import (
	"encoding/json"
	"fmt"
	"net/http"

	"github.com/opsconform/opsconform/reports"
	"github.com/opsconform/opsconform/specs"
)

// cleanups are what a check set up and must undo when it ends, pass or
// fail, newest first. Failing to undo is never the requirement's failure.
type cleanups []func()

// Defer registers fn to run when the check ends.
func (t *T) Defer(fn func()) { t.undo = append(t.undo, fn) }

// finish runs the check's cleanups without touching its verdict.
func (t *T) finish() {
	for i := len(t.undo) - 1; i >= 0; i-- {
		cleanup(t, t.undo[i])
	}
	t.undo = nil
}

// tryFirstID is firstID without the skip: ok is false when no list of the
// collection yields an item.
func (t *T) tryFirstID(op *specs.Operation) (id string, ok bool) {
	defer func() {
		if v := recover(); v != nil {
			if _, stop := v.(stopCheck); !stop || t.status != reports.Skip {
				panic(v)
			}
			t.status, t.reason = "", ""
			id, ok = "", false
		}
	}()
	return t.firstID(op), true
}

// sacrificialItem creates, with the full key, an item of op's collection for
// a check to act on, and deletes it when the check ends. ok is false when
// the collection has no create operation the suite can call.
func (t *T) sacrificialItem(op *specs.Operation) (string, bool) {
	e := t.env
	r := op.Resource
	var create, del *specs.Operation
	for _, o := range e.profile.Operations {
		or := o.Resource
		if or == nil || or.Collection != r.Collection || or.Source != r.Source || or.Parent != r.Parent {
			continue
		}
		switch or.Action {
		case specs.ActionCreate:
			create = o
		case specs.ActionDelete:
			del = o
		}
	}
	if create == nil || !e.fillable(create) {
		return "", false
	}
	body := "{}"
	if create.Body != nil {
		body = validBody(create.Body.Schema)
	}
	resp, data := t.Raw(t.Client("full"), create.Method, e.path(create, nil), nil, body)
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return "", false
	}
	item, err := e.unwrap(data)
	if err != nil {
		return "", false
	}
	field := r.Field
	if field == "" {
		field = "id"
	}
	id, _ := item[field].(string)
	if id == "" {
		if n, ok := item[field].(float64); ok {
			id = fmt.Sprint(int64(n))
		}
	}
	if id == "" {
		return "", false
	}
	t.forget(data) // a created key's secret is in this body: redact it from now on
	if del != nil {
		t.Defer(func() {
			t.Raw(t.Client("full"), del.Method, e.path(del, map[string]string{del.Resource.ID: id}), nil, "")
		})
	}
	return id, true
}

// forget adds any secret a created key's body shows to what reports redact.
func (t *T) forget(body []byte) {
	var m map[string]any
	if json.Unmarshal(body, &m) != nil {
		return
	}
	if inner, ok := m[t.env.profile.Envelope.Success].(map[string]any); ok {
		m = inner
	}
	for _, f := range []string{"privateKey", "secret", "key", "token"} {
		if s, ok := m[f].(string); ok && len(s) >= 8 {
			t.rec.secrets = append(t.rec.secrets, s)
		}
	}
}

// pageAs fetches the first page of a list as role.
func (t *T) pageAs(role string, op *specs.Operation) (int, []any, map[string]any, []byte) {
	e := t.env
	resp, body := t.Raw(t.Client(role), op.Method, e.path(op, nil), nil, "")
	if resp.StatusCode != http.StatusOK {
		return resp.StatusCode, nil, nil, body
	}
	inner, err := e.unwrap(body)
	if err != nil {
		t.Fatalf("a "+e.profile.Name+" list body", string(truncate(body)), "%v", err)
	}
	field := op.Resource.Items
	if field == "" && e.profile.Pagination != nil {
		field = e.profile.Pagination.Response.Items
	}
	items, _ := inner[field].([]any)
	return resp.StatusCode, items, inner, body
}

// removeCreated deletes, with the full key, the item a create answered with
// body, when the collection has a delete operation: a check that made the
// target create something by mistake leaves nothing behind.
func (t *T) removeCreated(create *specs.Operation, body []byte) {
	e := t.env
	item, err := e.unwrap(body)
	if err != nil {
		return
	}
	r := create.Resource
	for _, o := range e.profile.Operations {
		or := o.Resource
		if or == nil || or.Action != specs.ActionDelete || or.Collection != r.Collection || or.Source != r.Source {
			continue
		}
		field := or.Field
		if field == "" {
			field = "id"
		}
		if id := fmt.Sprint(item[field]); item[field] != nil {
			t.Defer(func() { t.Raw(t.Client("full"), o.Method, e.path(o, map[string]string{or.ID: id}), nil, "") })
		}
		return
	}
}

// markUsed records that the check relies on credential role, so the
// vacuous-pass test knows a pass without it would be a lie.
func (t *T) markUsed(role string) {
	if t.used == nil {
		t.used = map[string]bool{}
	}
	t.used[role] = true
}
