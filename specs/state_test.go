package specs

import (
	"strings"
	"testing"
	"time"
)

// stateSpec is a small extended spec whose x-opsconform-resource
// declarations the cases below vary: a list of tickets, a get, a create and
// an action. Line numbers in the wanted errors count from its first line.
func stateSpec(list, create, action, get string) string {
	return `openapi: 3.1.0
info: {title: T, version: "1"}
x-opsconform-profile: {name: t}
paths:
  /tickets:
    get:
      operationId: listTickets
      x-opsconform-resource: ` + list + `
      parameters:
        - {name: status, in: query, schema: {type: string}}
        - {name: since, in: query, schema: {type: string}}
        - {name: sortBy, in: query, schema: {type: string}}
      responses:
        "200":
          description: ok
          content:
            application/json:
              schema: {type: array, items: {$ref: "#/components/schemas/Ticket"}}
    post:
      operationId: createTicket
      x-opsconform-resource: ` + create + `
      parameters:
        - {name: note, in: query, schema: {type: string}}
      responses:
        "201":
          description: ok
          content:
            application/json:
              schema: {$ref: "#/components/schemas/Ticket"}
  /tickets/{id}/close:
    post:
      operationId: closeTicket
      x-opsconform-resource: ` + action + `
      parameters:
        - {name: id, in: path, required: true, schema: {type: string}}
      responses:
        "200": {description: ok}
  /tickets/{id}:
    get:
      operationId: getTicket
      x-opsconform-resource: ` + get + `
      parameters:
        - {name: id, in: path, required: true, schema: {type: string}}
      responses:
        "200":
          description: ok
          content:
            application/json:
              schema:
                type: object
                properties:
                  ticketId: {type: string}
                  state: {type: string}
components:
  schemas:
    Ticket:
      type: object
      properties:
        id: {type: string}
        status: {type: string, enum: [new, open, closed]}
        count: {type: integer}
        closedAt: {type: string, format: date-time}
        closedMs: {type: integer}
        closedText: {type: string}
        closedBy: {type: string}
        note: {type: string}
`
}

const (
	okList   = "{collection: tickets, action: list}"
	okCreate = "{collection: tickets, action: create}"
	okAction = "{collection: tickets, action: action, id: id}"
	okGet    = "{collection: tickets, action: get, id: id}"
)

// TestStateDeclarationsLoad: what a valid spec declares is decoded into
// the model, the clock's form chosen from each field's schema.
func TestStateDeclarationsLoad(t *testing.T) {
	spec := stateSpec(
		"{collection: tickets, action: list, filters: {status: status, since: {field: closedMs, op: ge, time: [yyyy-MM-dd]}}, sort: {by: sortBy}, unsupported: [page]}",
		"{collection: tickets, action: create, sets: {status: new, note: $param.note, closedBy: $user}}",
		"{collection: tickets, action: action, id: id, sets: {status: closed, closedAt: $now, closedMs: $now, closedText: \"$now(d MMM yyyy)\", count: 3, note: $$literal}}",
		"{collection: tickets, action: get, id: id, view: {ticketId: id, state: status}}")
	p, err := Load("t.yaml", []byte(spec))
	if err != nil {
		t.Fatal(err)
	}
	list, create, action, get := p.Operation("listTickets").Resource, p.Operation("createTicket").Resource, p.Operation("closeTicket").Resource, p.Operation("getTicket").Resource
	if list.Filters["status"] != "status" || len(list.Comparisons) != 1 || list.Comparisons[0].Layouts[0] != "2006-01-02" || list.Sort.By != "sortBy" || list.Unsupported[0] != "page" {
		t.Errorf("list %+v", list)
	}
	if create.Sets[1].Token != TokenParam || create.Sets[1].Param != "note" || create.Sets[2].Token != TokenUser {
		t.Errorf("create sets %+v", create.Sets)
	}
	byField := map[string]Assignment{}
	for _, a := range action.Sets {
		byField[a.Field] = a
	}
	now := time.Date(2026, 3, 8, 18, 17, 7, 123e6, time.UTC)
	want := map[string]any{"status": "closed", "closedAt": "2026-03-08T18:17:07Z", "closedMs": now.UnixMilli(), "closedText": "8 Mar 2026", "count": 3, "note": "$literal"}
	for field, w := range want {
		got, err := byField[field].Resolve(now, "u1", func(string) (string, bool) { return "", false })
		if err != nil || got != w {
			t.Errorf("%s resolves to %#v (%v), want %#v", field, got, err, w)
		}
	}
	if get.View["ticketId"] != "id" || get.Item == nil || get.Item != action.Item {
		t.Errorf("get %+v: every operation of a collection has its item schema", get)
	}
	if v, err := create.Sets[1].Resolve(now, "", func(n string) (string, bool) { return "from the query", n == "note" }); v != "from the query" || err != nil {
		t.Errorf("$param.note resolves to %v, %v", v, err)
	}
}

// TestStateDeclarationsRefused: every mistake in a state declaration is an
// error when the spec loads, naming the file, the line and what is wrong.
func TestStateDeclarationsRefused(t *testing.T) {
	tests := []struct {
		name                      string
		list, create, action, get string
		want                      string
	}{
		{"unknown field", "{collection: tickets, action: list, filter: {status: status}}", okCreate, okAction, okGet, `t.yaml:8:1: GET /tickets.x-opsconform-resource: unknown field "filter"`},
		{"sets on a list", "{collection: tickets, action: list, sets: {status: new}}", okCreate, okAction, okGet, "sets: only for create, update and action (not list)"},
		{"sets an unknown field", okList, okCreate, "{collection: tickets, action: action, id: id, sets: {state: closed}}", okGet, `POST /tickets/{id}/close.x-opsconform-resource.sets: the tickets item has no property "state"`},
		{"literal outside the enum", okList, okCreate, "{collection: tickets, action: action, id: id, sets: {status: archived}}", okGet, `sets.status: "archived" does not fit the field's schema`},
		{"literal of the wrong type", okList, okCreate, "{collection: tickets, action: action, id: id, sets: {count: many}}", okGet, `sets.count: "many" does not fit`},
		{"unknown token", okList, okCreate, "{collection: tickets, action: action, id: id, sets: {closedAt: $today}}", okGet, `unknown token "$today"`},
		{"$now on a plain string", okList, okCreate, "{collection: tickets, action: action, id: id, sets: {closedText: $now}}", okGet, "sets.closedText: $now needs an integer (epoch milliseconds) or a string of format date-time or date"},
		{"$now(pattern) on an integer", okList, okCreate, "{collection: tickets, action: action, id: id, sets: {closedMs: \"$now(yyyy)\"}}", okGet, "$now(yyyy) writes a string, but the field is of type integer"},
		{"a pattern letter Go would misread", okList, okCreate, "{collection: tickets, action: action, id: id, sets: {closedText: \"$now(yyyy-QQ)\"}}", okGet, "Q is not a date pattern letter"},
		{"a digit in a pattern", okList, okCreate, "{collection: tickets, action: action, id: id, sets: {closedText: \"$now(2006-MM)\"}}", okGet, "cannot stand in a date pattern"},
		{"$user on an integer", okList, "{collection: tickets, action: create, sets: {count: $user}}", okAction, okGet, "$user is a string, but the field is of type integer"},
		{"$param of no parameter", okList, "{collection: tickets, action: create, sets: {note: $param.comment}}", okAction, okGet, `the operation has no path or query parameter "comment"`},
		{"filter on an undeclared parameter", "{collection: tickets, action: list, filters: {state: status}}", okCreate, okAction, okGet, `filters: the operation has no query or path parameter "state"`},
		{"filter on an unknown field", "{collection: tickets, action: list, filters: {status: state}}", okCreate, okAction, okGet, `GET /tickets.x-opsconform-resource.filters: the tickets item has no property "state"`},
		{"filter on a create", okList, "{collection: tickets, action: create, filters: {note: note}}", okAction, okGet, "filters: only for list"},
		{"comparison with an unknown op", "{collection: tickets, action: list, filters: {since: {field: closedMs, op: after}}}", okCreate, okAction, okGet, `filters.since.op: unknown value "after" (want lt, le, gt or ge)`},
		{"comparison by time on text", "{collection: tickets, action: list, filters: {since: {field: note, op: ge, time: [yyyy]}}}", okCreate, okAction, okGet, "neither epoch milliseconds (an integer) nor a date-time string"},
		{"comparison with an unknown key", "{collection: tickets, action: list, filters: {since: {field: closedMs, op: ge, layout: yyyy}}}", okCreate, okAction, okGet, `unknown field "layout"`},
		{"sort by an undeclared parameter", "{collection: tickets, action: list, sort: {by: orderBy}}", okCreate, okAction, okGet, `sort: the operation has no query parameter "orderBy"`},
		{"sort on a get", okList, okCreate, okAction, "{collection: tickets, action: get, id: id, sort: {by: id}}", "sort: only for list"},
		{"unsupported and applied", "{collection: tickets, action: list, filters: {status: status}, unsupported: [status]}", okCreate, okAction, okGet, `unsupported: "status" is applied by this operation`},
		{"view of an unknown answer field", okList, okCreate, okAction, "{collection: tickets, action: get, id: id, view: {ticket: id}}", `view: the answer has no property "ticket"`},
		{"view of an unknown item field", okList, okCreate, okAction, "{collection: tickets, action: get, id: id, view: {state: phase}}", `the tickets item has no property "phase"`},
		{"view on a list", "{collection: tickets, action: list, view: {status: status}}", okCreate, okAction, okGet, "view: only for get"},
		{"counts on a bare array", "{collection: tickets, action: list, counts: {byStatus: status}}", okCreate, okAction, okGet, "counts: only for a list whose answer is an object"},
		{"record of no schema", "{collection: tickets, action: list, record: TicketRecord}", okCreate, okAction, okGet, `record: "TicketRecord" is not an object schema under components.schemas`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Load("t.yaml", []byte(stateSpec(tt.list, tt.create, tt.action, tt.get)))
			if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), "t.yaml:") {
				t.Errorf("err = %v\nwant one naming t.yaml:LINE and %q", err, tt.want)
			}
		})
	}
}

// TestTimeLayout: date patterns as the vendors' (Java) documentation writes
// them become the Go layouts that write and read the same text.
func TestTimeLayout(t *testing.T) {
	at := time.Date(2024, 3, 8, 18, 17, 7, 793e6, time.UTC)
	tests := []struct{ pattern, want string }{
		{"d MMM yyyy hh:mm:ss a z", "8 Mar 2024 06:17:07 PM UTC"},
		{"yyyy-MM-dd HH:mm:ss", "2024-03-08 18:17:07"},
		{"yyyy-MM-dd", "2024-03-08"},
		{"EEE, dd MMMM yy h:mm a", "Fri, 08 March 24 6:17 PM"},
		{"yyyy-MM-dd'T'HH", ""},
		{"yyyy/MM/dd HH:mm:ss.SSS XXX", "2024/03/08 18:17:07.793 Z"},
		{"ddd", ""},
		{"yyyy-mm-DD", ""},
		{"", ""},
	}
	for _, tt := range tests {
		layout, err := TimeLayout(tt.pattern)
		if tt.want == "" {
			if err == nil {
				t.Errorf("TimeLayout(%q) = %q, want an error", tt.pattern, layout)
			}
			continue
		}
		if err != nil {
			t.Errorf("TimeLayout(%q): %v", tt.pattern, err)
			continue
		}
		if got := at.Format(layout); got != tt.want {
			t.Errorf("TimeLayout(%q) writes %q, want %q", tt.pattern, got, tt.want)
		}
		if back, err := time.Parse(layout, tt.want); err != nil || !back.Equal(at.Truncate(precision(tt.pattern))) {
			t.Errorf("TimeLayout(%q) reads %q back as %v, %v", tt.pattern, tt.want, back, err)
		}
	}
}

// precision is what a pattern keeps of a time.
func precision(pattern string) time.Duration {
	switch {
	case strings.Contains(pattern, "SSS"):
		return time.Millisecond
	case strings.Contains(pattern, "ss"):
		return time.Second
	case strings.Contains(pattern, "mm"):
		return time.Minute
	}
	return 24 * time.Hour
}
