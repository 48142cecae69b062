package mock

import (
	"encoding/json"
	"fmt"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/opsconform/opsconform/fixtures"
	"github.com/opsconform/opsconform/specs"
)

// opmanagerTime is how OpManager's sample answers write a time (d MMM yyyy
// hh:mm:ss a z), in the mock's zone.
const opmanagerTime = "2 Jan 2006 03:04:05 PM MST"

// decodeJSON decodes an answer, failing the test when it is not JSON.
func decodeJSON[T any](t *testing.T, body []byte) T {
	t.Helper()
	var v T
	if err := json.Unmarshal(body, &v); err != nil {
		t.Fatalf("not the JSON expected: %v: %.300s", err, body)
	}
	return v
}

// alarms reads listAlarms with query and returns the alarms.
func (h *harness) alarms(t *testing.T, hdr http.Header, query string) []map[string]any {
	t.Helper()
	status, _, body := h.do("GET", "/api/json/alarm/listAlarms"+query, hdr, "")
	if status != 200 {
		t.Fatalf("listAlarms%s: %d %s", query, status, body)
	}
	return decodeJSON[[]map[string]any](t, body)
}

func alarmByEntity(alarms []map[string]any, entity string) map[string]any {
	for _, a := range alarms {
		if a["entity"] == entity {
			return a
		}
	}
	return nil
}

// TestCreatesApplyDefaultsAndDeclaredValues: a create keeps the body, gives
// what it leaves out the body schema's default (a ticket's priority is
// normal, not a random value), writes the values the spec declares (a new
// ticket is new) and takes its timestamps from the mock's clock; the list
// and the get then agree.
func TestCreatesApplyDefaultsAndDeclaredValues(t *testing.T) {
	h := newHarness(t)
	h.clock.Advance(90*time.Minute + 1500*time.Millisecond)
	now := h.clock.Now().UTC().Format(time.RFC3339)
	p := profileNamed(t, "opsmerge")
	hdr, _ := fixtureCredentials(t, p, "full")
	clientID := fmt.Sprint(h.srv.dataset("opsmerge").cols["clients"].items[0].fields["id"])
	tests := []struct {
		name, path, body string
		want             map[string]any
	}{
		{"ticket without a priority", "/api/v1/tickets", `{"subject":"Printer jam on floor 2","clientId":"` + clientID + `"}`,
			map[string]any{"subject": "Printer jam on floor 2", "priority": "normal", "status": "new", "createdAt": now, "clientId": clientID}},
		{"ticket with a priority", "/api/v1/tickets", `{"subject":"Core switch down","clientId":"` + clientID + `","priority":"urgent"}`,
			map[string]any{"priority": "urgent", "status": "new", "createdAt": now}},
		{"client", "/api/v1/clients", `{"name":"Acme Dental","email":"it@acme.example"}`,
			map[string]any{"name": "Acme Dental", "createdAt": now}},
		{"agent", "/api/v1/agents", `{"hostname":"FRONTDESK-02","os":"windows","clientId":"` + clientID + `"}`,
			map[string]any{"hostname": "FRONTDESK-02", "status": "online", "lastSeen": now}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, _, body := h.do("POST", tt.path, hdr, tt.body)
			if status != 201 {
				t.Fatalf("create: %d %s", status, body)
			}
			created := decodeJSON[map[string]map[string]any](t, body)["data"]
			id := fmt.Sprint(created["id"])
			status, _, body = h.do("GET", tt.path+"/"+id, hdr, "")
			if status != 200 {
				t.Fatalf("get: %d %s", status, body)
			}
			read := decodeJSON[map[string]map[string]any](t, body)["data"]
			for field, want := range tt.want {
				if created[field] != want {
					t.Errorf("created %s = %v, want %v", field, created[field], want)
				}
				if read[field] != want {
					t.Errorf("read back %s = %v, want %v", field, read[field], want)
				}
			}
		})
	}
}

// TestActionsChangeWhatTheyDeclare: each action's declared effect reads
// back on the list and the get, with the caller and the mock's clock where
// the spec says so; an action on an item that does not exist is a 404.
func TestActionsChangeWhatTheyDeclare(t *testing.T) {
	h := newHarness(t)
	h.clock.Advance(3 * time.Hour)
	now := h.clock.Now()
	opm := profileNamed(t, "opmanager")
	oh, _ := fixtureCredentials(t, opm, "full") // owned by the user admin
	noc := http.Header{"Apikey": {fixtureKey(t, "opmanager", "mcp").Secret}}
	om := profileNamed(t, "opsmerge")
	omh, _ := fixtureCredentials(t, om, "full")
	agent := fmt.Sprint(h.srv.dataset("opsmerge").cols["agents"].items[3].fields["id"])
	const entity = "10241_CPUUtilization"
	getAlarm := func(t *testing.T) map[string]any {
		status, _, body := h.do("GET", "/api/json/alarm/alarmProperties?entity="+entity, oh, "")
		if status != 200 {
			t.Fatalf("alarmProperties: %d %s", status, body)
		}
		return decodeJSON[map[string]any](t, body)
	}
	tests := []struct {
		name       string
		hdr        http.Header
		path       string
		wantAnswer string
		check      func(t *testing.T)
	}{
		{"acknowledgeAlarm makes the caller the technician", oh, "/api/json/alarm/acknowledgeAlarm?entity=" + entity, "Alarm has been successfully Acknowledged", func(t *testing.T) {
			if a := alarmByEntity(h.alarms(t, oh, ""), entity); a["who"] != "admin" {
				t.Errorf("listAlarms shows who %v, want admin", a["who"])
			}
			if a := getAlarm(t); a["who"] != "admin" {
				t.Errorf("alarmProperties shows who %v, want admin", a["who"])
			}
		}},
		{"unAcknowledgeAlarm removes the technician", oh, "/api/json/alarm/unAcknowledgeAlarm?entity=" + entity, "Alarm has been successfully UnAcknowledged", func(t *testing.T) {
			if a := alarmByEntity(h.alarms(t, oh, ""), entity); a["who"] != "Unacknowledged" {
				t.Errorf("listAlarms shows who %v, want Unacknowledged", a["who"])
			}
		}},
		{"clearAlarm clears every severity field and stamps the clock", oh, "/api/json/alarm/clearAlarm?entity=" + entity, "Alarm has been successfully Cleared!", func(t *testing.T) {
			a := alarmByEntity(h.alarms(t, oh, ""), entity)
			want := map[string]any{"numericSeverity": 5.0, "statusNum": 5.0, "status": 5.0, "severityString": "Clear", "statusStr": "Clear",
				"severity": "<img src='/images/devices/status5.gif'>&nbsp;Clear", "modTimeLong": float64(now.UnixMilli()), "modTime": now.UTC().Format(opmanagerTime)}
			for f, w := range want {
				if a[f] != w {
					t.Errorf("listAlarms %s = %v, want %v", f, a[f], w)
				}
			}
			props := getAlarm(t)
			if props["statusNum"] != "5" || props["stringseverity"] != "Clear" || props["modTime"] != fmt.Sprint(now.UnixMilli()) || props["strModTime"] != now.UTC().Format(opmanagerTime) {
				t.Errorf("alarmProperties after clear: %v", props)
			}
			if cleared := h.alarms(t, oh, "?severity=5"); alarmByEntity(cleared, entity) == nil {
				t.Errorf("severity=5 does not list the cleared alarm")
			}
			if critical := h.alarms(t, oh, "?severity=1"); alarmByEntity(critical, entity) != nil {
				t.Errorf("severity=1 still lists the cleared alarm")
			}
		}},
		{"acknowledging as another user names that user", noc, "/api/json/alarm/acknowledgeAlarm?entity=10243_CPUUtilization", "", func(t *testing.T) {
			// The MCP key is owned by noc, which has no alarms:write: refused, nothing changes.
			if a := alarmByEntity(h.alarms(t, oh, ""), "10243_CPUUtilization"); a["who"] == "noc" {
				t.Errorf("a refused acknowledge changed the alarm")
			}
		}},
		{"rebootAgent puts the agent in rebooting", omh, "/api/v1/agents/" + agent + "/reboot", "", func(t *testing.T) {
			status, _, body := h.do("GET", "/api/v1/agents/"+agent, omh, "")
			if status != 200 || decodeJSON[map[string]map[string]any](t, body)["data"]["status"] != "rebooting" {
				t.Errorf("getAgent after reboot: %d %s", status, body)
			}
			status, _, body = h.do("GET", "/api/v1/agents/"+agent+"/status", omh, "")
			if status != 200 || decodeJSON[map[string]map[string]any](t, body)["data"]["status"] != "rebooting" {
				t.Errorf("getAgentStatus after reboot: %d %s", status, body)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, _, body := h.do("POST", tt.path, tt.hdr, "")
			switch {
			case tt.wantAnswer != "":
				if status != 200 || decodeJSON[map[string]map[string]any](t, body)["result"]["message"] != tt.wantAnswer {
					t.Fatalf("answer %d %s, want 200 with %q", status, body, tt.wantAnswer)
				}
			case tt.hdr.Get("Apikey") != "" && tt.hdr.Get("Apikey") == noc.Get("Apikey"):
				if status != 403 {
					t.Fatalf("answer %d %s, want 403", status, body)
				}
			case status < 200 || status > 299:
				t.Fatalf("answer %d %s", status, body)
			}
			tt.check(t)
		})
	}
	t.Run("an action on an alarm that does not exist is 404", func(t *testing.T) {
		for _, op := range []string{"acknowledgeAlarm", "unAcknowledgeAlarm", "clearAlarm", "deleteAlarm"} {
			status, _, body := h.do("POST", "/api/json/alarm/"+op+"?entity=no_such_alarm", oh, "")
			if status != 404 || !strings.Contains(string(body), "no_such_alarm") {
				t.Errorf("%s: %d %s, want 404 naming the entity", op, status, body)
			}
			assertErrorEnvelope(t, opm, specs.NotFound, body)
		}
	})
}

// TestListAlarmsAsTheVendorDocumentsIt: the answer is a bare array;
// severity is a number 1–5 and keeps exactly the alarms of that severity
// (names, which the vendor does not document, are refused); the other
// documented filters work on the data; alertType is refused, naming it.
func TestListAlarmsAsTheVendorDocumentsIt(t *testing.T) {
	h := newHarness(t)
	p := profileNamed(t, "opmanager")
	hdr, _ := fixtureCredentials(t, p, "full")
	status, _, body := h.do("GET", "/api/json/alarm/listAlarms", hdr, "")
	if status != 200 || !strings.HasPrefix(string(body), "[") {
		t.Fatalf("listAlarms: %d %.200s, want a bare JSON array", status, body)
	}
	all := decodeJSON[[]map[string]any](t, body)
	if len(all) != len(h.srv.dataset("opmanager").cols["alarms"].items) || len(all) < 20 {
		t.Fatalf("listAlarms answers %d alarms", len(all))
	}
	seen := 0
	for sev := 1; sev <= 5; sev++ {
		got := h.alarms(t, hdr, fmt.Sprintf("?severity=%d", sev))
		want := 0
		for _, a := range all {
			if a["numericSeverity"] == float64(sev) {
				want++
			}
		}
		if len(got) != want || want == 0 {
			t.Errorf("severity=%d: %d alarms, the list has %d of that severity", sev, len(got), want)
		}
		for _, a := range got {
			if a["numericSeverity"] != float64(sev) {
				t.Errorf("severity=%d answers %v", sev, a)
			}
		}
		seen += len(got)
	}
	if seen != len(all) {
		t.Errorf("the five severities cover %d of %d alarms", seen, len(all))
	}
	filters := []struct {
		query string
		keep  func(a map[string]any) bool
	}{
		{"?deviceName=core-switch-01", func(a map[string]any) bool { return a["deviceName"] == "core-switch-01" }},
		{"?category=Server", func(a map[string]any) bool { return a["category"] == "Server" }},
		{"?category=Server&severity=1", func(a map[string]any) bool { return a["category"] == "Server" && a["numericSeverity"] == 1.0 }},
		{"?entity=10241_CPUUtilization", func(a map[string]any) bool { return a["entity"] == "10241_CPUUtilization" }},
		{"?fromTime=" + url.QueryEscape("2026-11-20"), func(a map[string]any) bool { return a["modTimeLong"].(float64) >= 1795132800000 }},
		{"?fromTime=" + url.QueryEscape("2026-11-18 06:30:00") + "&toTime=2026-11-20", func(a map[string]any) bool {
			return a["modTimeLong"].(float64) >= 1794983400000 && a["modTimeLong"].(float64) <= 1795132800000
		}},
		{"?deviceName=no-such-device", func(map[string]any) bool { return false }},
	}
	for _, f := range filters {
		t.Run(f.query, func(t *testing.T) {
			got := h.alarms(t, hdr, f.query)
			want := 0
			for _, a := range all {
				if f.keep(a) {
					want++
				}
			}
			if len(got) != want {
				t.Errorf("%d alarms, want %d", len(got), want)
			}
			for _, a := range got {
				if !f.keep(a) {
					t.Errorf("kept %v", a)
				}
			}
		})
	}
	refused := []struct{ query, param string }{
		{"?severity=Critical", "severity"},
		{"?severity=6", "severity"},
		{"?alertType=ActiveAlarms", "alertType"},
		{"?fromTime=last%20week", "fromTime"},
	}
	for _, r := range refused {
		t.Run(r.query, func(t *testing.T) {
			status, _, body := h.do("GET", "/api/json/alarm/listAlarms"+r.query, hdr, "")
			if status != 400 || !strings.Contains(string(body), r.param) {
				t.Errorf("%d %s, want 400 naming %s", status, body, r.param)
			}
			assertErrorEnvelope(t, p, specs.InvalidParameter, body)
		})
	}
}

// TestDeviceAndInterfaceLists: the documented device and interface filters
// and sorts work on the data; what the mock does not apply is refused,
// naming it, never ignored.
func TestDeviceAndInterfaceLists(t *testing.T) {
	h := newHarness(t)
	p := profileNamed(t, "opmanager")
	hdr, _ := fixtureCredentials(t, p, "full")
	type page struct {
		Total, Page, Records int
		Rows                 []map[string]any
	}
	tests := []struct {
		path string
		keep func(map[string]any) bool
		less func(a, b map[string]any) bool
	}{
		{"/api/json/v2/device/listDevices?rows=1000&vendor=Cisco", func(d map[string]any) bool { return d["vendorName"] == "Cisco" }, nil},
		{"/api/json/v2/device/listDevices?rows=1000&category=Router&type=Router", func(d map[string]any) bool { return d["category"] == "Router" && d["type"] == "Router" }, nil},
		{"/api/json/v2/device/listDevices?rows=1000&sortByColumn=displayName&sortByType=desc", nil, func(a, b map[string]any) bool { return a["displayName"].(string) >= b["displayName"].(string) }},
		{"/api/json/device/listInterfaces?rows=1000&severity=5", func(i map[string]any) bool { return i["statusNum"] == 5.0 }, nil},
		{"/api/json/device/listInterfaces?rows=1000&type=Software%20Loopback", func(i map[string]any) bool { return i["type"] == "Software Loopback" }, nil},
		{"/api/json/device/listInterfaces?rows=1000&sortByColumn=interfaceName", nil, func(a, b map[string]any) bool { return a["interfaceName"].(string) <= b["interfaceName"].(string) }},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			status, _, body := h.do("GET", tt.path, hdr, "")
			if status != 200 {
				t.Fatalf("%d %s", status, body)
			}
			pg := decodeJSON[page](t, body)
			if len(pg.Rows) == 0 || pg.Records != len(pg.Rows) && len(pg.Rows) != 1000 {
				t.Fatalf("%d rows of %d records", len(pg.Rows), pg.Records)
			}
			for i, r := range pg.Rows {
				if tt.keep != nil && !tt.keep(r) {
					t.Errorf("kept %v", r)
				}
				if tt.less != nil && i > 0 && !tt.less(pg.Rows[i-1], r) {
					t.Errorf("rows %d and %d out of order: %v, %v", i-1, i, pg.Rows[i-1], r)
				}
			}
		})
	}
	status, _, body := h.do("GET", "/api/json/device/listDevices?vendor=Cisco", hdr, "")
	v1 := decodeJSON[map[string][]map[string]any](t, body)["devices"]
	if status != 200 || len(v1) == 0 || slices.ContainsFunc(v1, func(d map[string]any) bool { return d["vendorName"] != "Cisco" }) {
		t.Errorf("v1 vendor=Cisco: %d, %d devices", status, len(v1))
	}
	refused := []struct{ path, param string }{
		{"/api/json/device/listDevices?page=2&rows=200", "page"},
		{"/api/json/device/listDevices?severity=1", "severity"},
		{"/api/json/v2/device/listDevices?groupName=Core", "groupName"},
		{"/api/json/v2/device/listDevices?sortByColumn=noSuchColumn", "sortByColumn"},
		{"/api/json/v2/device/listDevices?sortByType=sideways", "sortByType"},
		{"/api/json/device/listInterfaces?intfProps=ifName", "intfProps"},
		{"/api/json/device/listInterfaces?severity=6", "severity"},
		{"/api/json/alarm/alarmProperties?entity=10241_CPUUtilization&deviceID=302", "deviceID"},
	}
	for _, r := range refused {
		status, _, body := h.do("GET", r.path, hdr, "")
		if status != 400 || !strings.Contains(string(body), r.param) {
			t.Errorf("%s: %d %s, want 400 naming %s", r.path, status, body, r.param)
		}
	}
	status, _, body = h.do("GET", "/api/json/device/getInterfaceSummary?interfaceName=IF-10.0.1.1-101", hdr, "")
	sum := decodeJSON[map[string]any](t, body)
	if status != 200 || sum["name"] != "IF-10.0.1.1-101" || sum["displayName"] != "Edge Router 01" || sum["inSpeedDisplayValue"] != "10 Gbps" {
		t.Errorf("getInterfaceSummary: %d %s", status, body)
	}
	if status, _, body := h.do("GET", "/api/json/device/getInterfaceSummary?interfaceName=IF-nowhere", hdr, ""); status != 404 {
		t.Errorf("getInterfaceSummary of an unknown interface: %d %s", status, body)
	}
}

// TestNotesFollowTheAlarm: addNotes adds a note getAnnotation lists, with
// the caller, the next note number and the mock's clock; a note for an
// alarm that does not exist is 404; deleting the alarm takes its notes.
func TestNotesFollowTheAlarm(t *testing.T) {
	h := newHarness(t)
	h.clock.Advance(time.Hour)
	now := h.clock.Now()
	p := profileNamed(t, "opmanager")
	hdr, _ := fixtureCredentials(t, p, "full")
	const entity = "10241_CPUUtilization"
	notes := func() []map[string]any {
		status, _, body := h.do("GET", "/api/json/alarm/getAnnotation?entity="+entity, hdr, "")
		if status != 200 {
			t.Fatalf("getAnnotation: %d %s", status, body)
		}
		return decodeJSON[[]map[string]any](t, body)
	}
	before := notes()
	highest := 0.0
	for _, a := range h.srv.dataset("opmanager").cols["annotations"].items {
		n, _ := asInt(a.fields["noteID"])
		highest = max(highest, float64(n))
	}
	status, _, body := h.do("POST", "/api/json/alarm/addNotes?entity="+entity+"&notes="+url.QueryEscape("Replaced the PSU & rebooted <sup1>"), hdr, "")
	if status != 200 || decodeJSON[map[string]map[string]any](t, body)["result"]["message"] != "Successfully Added" {
		t.Fatalf("addNotes: %d %s", status, body)
	}
	after := notes()
	if len(after) != len(before)+1 {
		t.Fatalf("%d notes after adding one to %d", len(after), len(before))
	}
	added := after[len(after)-1]
	want := map[string]any{"entity": entity, "notes": "Replaced the PSU & rebooted <sup1>", "who": "admin", "noteID": highest + 1,
		"modTime": float64(now.UnixMilli()), "modTimeStr": now.UTC().Format(opmanagerTime)}
	for f, w := range want {
		if added[f] != w {
			t.Errorf("note %s = %v, want %v", f, added[f], w)
		}
	}
	for _, tc := range []struct {
		query  string
		status int
	}{{"?entity=no_such_alarm&notes=x", 404}, {"?entity=" + entity, 400}, {"?notes=x", 400}} {
		if status, _, body := h.do("POST", "/api/json/alarm/addNotes"+tc.query, hdr, ""); status != tc.status {
			t.Errorf("addNotes%s: %d %s, want %d", tc.query, status, body, tc.status)
		}
	}
	if status, _, body := h.do("POST", "/api/json/alarm/deleteAlarm?entity="+entity, hdr, ""); status != 200 {
		t.Fatalf("deleteAlarm: %d %s", status, body)
	}
	if left := notes(); len(left) != 0 {
		t.Errorf("the deleted alarm's notes are still listed: %v", left)
	}
	if alarmByEntity(h.alarms(t, hdr, ""), entity) != nil {
		t.Errorf("the deleted alarm is still listed")
	}
}

// TestOpManagerFixturesConsistent: the embedded OpManager data refers to
// what exists and agrees with itself, as clients that join the lists
// expect: every alarm's and interface's device exists with the display name
// and category the item shows, an alarm's severity fields name one
// severity and its two times one instant, every note's alarm exists.
func TestOpManagerFixturesConsistent(t *testing.T) {
	h := newHarness(t)
	cols := h.srv.dataset("opmanager").cols
	devices := map[string]map[string]any{}
	for _, d := range cols["devices"].items {
		devices[fmt.Sprint(d.fields["deviceName"])] = d.fields
	}
	names := map[int64]string{1: "Critical", 2: "Trouble", 3: "Attention", 4: "Service Down", 5: "Clear", 7: "Unmanaged"}
	entities := map[string]bool{}
	for _, r := range cols["alarms"].items {
		a := r.fields
		entities[fmt.Sprint(a["entity"])] = true
		d := devices[fmt.Sprint(a["deviceName"])]
		if d == nil {
			t.Errorf("alarm %v: no device %v", a["entity"], a["deviceName"])
			continue
		}
		if a["displayName"] != d["displayName"] || a["category"] != d["category"] {
			t.Errorf("alarm %v shows %v/%v, its device is %v/%v", a["entity"], a["displayName"], a["category"], d["displayName"], d["category"])
		}
		n, _ := asInt(a["numericSeverity"])
		if s, _ := asInt(a["statusNum"]); s != n {
			t.Errorf("alarm %v: statusNum %v, numericSeverity %v", a["entity"], a["statusNum"], n)
		}
		if s, _ := asInt(a["status"]); s != n {
			t.Errorf("alarm %v: status %v, numericSeverity %v", a["entity"], a["status"], n)
		}
		if a["severityString"] != names[n] || a["statusStr"] != names[n] || a["severity"] != fmt.Sprintf("<img src='/images/devices/status%d.gif'>&nbsp;%s", n, names[n]) {
			t.Errorf("alarm %v: severity %d written as %v, %v, %v", a["entity"], n, a["severityString"], a["statusStr"], a["severity"])
		}
		ms, _ := asInt(a["modTimeLong"])
		if a["modTime"] != time.UnixMilli(ms).UTC().Format(opmanagerTime) {
			t.Errorf("alarm %v: modTime %v is not modTimeLong %d", a["entity"], a["modTime"], ms)
		}
	}
	for _, r := range cols["interfaces"].items {
		i := r.fields
		d := devices[fmt.Sprint(i["deviceName"])]
		if d == nil || i["displayName"] != d["displayName"] {
			t.Errorf("interface %v: device %v (%v) does not match", i["interfaceName"], i["deviceName"], i["displayName"])
		}
		n, _ := asInt(i["statusNum"])
		if s, _ := asInt(i["interfaceStatus"]); s != n || i["statusStr"] != names[n] {
			t.Errorf("interface %v: statusNum %v, interfaceStatus %v, statusStr %v", i["interfaceName"], n, i["interfaceStatus"], i["statusStr"])
		}
	}
	for _, r := range cols["events"].items {
		e := r.fields
		d := devices[fmt.Sprint(e["deviceName"])]
		if d == nil || e["displayname"] != d["displayName"] || e["category"] != d["category"] || !entities[fmt.Sprint(e["entity"])] {
			t.Errorf("event %v: device %v (%v, %v) or alarm %v does not match", e["eventId"], e["deviceName"], e["displayname"], e["category"], e["entity"])
		}
		if n := fmt.Sprint(e["statusNum"]); e["statusStr"] != names[int64(n[0]-'0')] {
			t.Errorf("event %v: statusNum %v, statusStr %v", e["eventId"], n, e["statusStr"])
		}
	}
	for _, r := range cols["annotations"].items {
		if !entities[fmt.Sprint(r.fields["entity"])] {
			t.Errorf("note %v: no alarm %v", r.fields["noteID"], r.fields["entity"])
		}
	}
	if len(cols["devices"].items) != 1100 || len(cols["alarms"].items) < 20 || len(cols["interfaces"].items) < 20 || len(cols["annotations"].items) == 0 {
		t.Errorf("devices %d, alarms %d, interfaces %d, notes %d", len(cols["devices"].items), len(cols["alarms"].items), len(cols["interfaces"].items), len(cols["annotations"].items))
	}
}

// TestDanglingFixtureReferenceRefused: a fixture item that names an item
// that does not exist stops the mock at start, saying which.
func TestDanglingFixtureReferenceRefused(t *testing.T) {
	raw, err := fs.ReadFile(fixtures.Embedded(), "opmanager.yaml")
	if err != nil {
		t.Fatal(err)
	}
	broken := strings.Replace(string(raw), `entity: "10241_CPUUtilization", deviceName: core-switch-01`, `entity: "10241_CPUUtilization", deviceName: no-such-device`, 1)
	if broken == string(raw) {
		t.Fatal("the fixture to break is not there")
	}
	_, err = New(Options{Profiles: []*specs.Profile{profileNamed(t, "opmanager")}, Fixtures: fstest.MapFS{"opmanager.yaml": {Data: []byte(broken)}}})
	if err == nil || !strings.Contains(err.Error(), "alarms") || !strings.Contains(err.Error(), "no-such-device") || !strings.Contains(err.Error(), "items[0]") {
		t.Errorf("err = %v, want one naming the alarm item and the device", err)
	}
}

// TestListEventsAsTheVendorDocumentsIt: the event list shows each event in
// the vendor's fields only (the device, entity and type its filters read
// stay inside), counts the listed events by severity, and its filters keep
// exactly the matching events.
func TestListEventsAsTheVendorDocumentsIt(t *testing.T) {
	h := newHarness(t)
	p := profileNamed(t, "opmanager")
	hdr, _ := fixtureCredentials(t, p, "full")
	type answer struct {
		SeverityVsCount map[string]int
		List            []map[string]any
	}
	read := func(query string) answer {
		t.Helper()
		status, _, body := h.do("GET", "/api/json/events/listEvents"+query, hdr, "")
		if status != 200 {
			t.Fatalf("listEvents%s: %d %s", query, status, body)
		}
		return decodeJSON[answer](t, body)
	}
	all := read("")
	records := h.srv.dataset("opmanager").cols["events"].items
	if len(all.List) != len(records) || len(all.List) < 20 {
		t.Fatalf("listEvents lists %d events of %d", len(all.List), len(records))
	}
	fields := []string{"category", "displayname", "modTimeLong", "statusNum", "statusStr", "text"}
	for _, e := range all.List {
		var got []string
		for k := range e {
			got = append(got, k)
		}
		slices.Sort(got)
		if !slices.Equal(got, fields) {
			t.Fatalf("an event shows %v, want the vendor's %v", got, fields)
		}
	}
	total := 0
	for name, n := range all.SeverityVsCount {
		total += n
		count := 0
		for _, e := range all.List {
			if e["statusStr"] == name {
				count++
			}
		}
		if count != n {
			t.Errorf("severityVsCount says %d %s, the list has %d", n, name, count)
		}
	}
	if total != len(all.List) {
		t.Errorf("severityVsCount counts %d of %d events", total, len(all.List))
	}
	hidden := func(field, value string) int {
		n := 0
		for _, r := range records {
			if fmt.Sprint(r.fields[field]) == value {
				n++
			}
		}
		return n
	}
	for _, tc := range []struct{ query, field, value string }{
		{"?deviceName=db-prod-01", "deviceName", "db-prod-01"},
		{"?entity=10241_CPUUtilization", "entity", "10241_CPUUtilization"},
		{"?eventType=Status%20Poll", "eventType", "Status Poll"},
		{"?severity=2", "statusNum", "2"},
		{"?category=Router", "category", "Router"},
	} {
		got := read(tc.query)
		if want := hidden(tc.field, tc.value); len(got.List) != want || want == 0 {
			t.Errorf("listEvents%s: %d events, %d have %s %s", tc.query, len(got.List), want, tc.field, tc.value)
		}
		sum := 0
		for _, n := range got.SeverityVsCount {
			sum += n
		}
		if sum != len(got.List) {
			t.Errorf("listEvents%s: severityVsCount counts %d of %d", tc.query, sum, len(got.List))
		}
	}
	if status, _, body := h.do("GET", "/api/json/events/listEvents?period=Today", hdr, ""); status != 400 || !strings.Contains(string(body), "period") {
		t.Errorf("period: %d %s, want 400 naming it", status, body)
	}
}

// TestPlainSpecCreatesApplyDefaults: a create on a plain OpenAPI file's
// collection gives what the body leaves out the body schema's default too.
func TestPlainSpecCreatesApplyDefaults(t *testing.T) {
	p, err := specs.Load("things.yaml", []byte(`openapi: 3.1.0
info: {title: Things, version: "1"}
paths:
  /things:
    get:
      responses:
        "200": {description: ok, content: {application/json: {schema: {type: array, items: {$ref: "#/components/schemas/Thing"}}}}}
    post:
      requestBody:
        content: {application/json: {schema: {$ref: "#/components/schemas/NewThing"}}}
      responses:
        "201": {description: ok, content: {application/json: {schema: {$ref: "#/components/schemas/Thing"}}}}
components:
  schemas:
    Thing:
      type: object
      properties:
        id: {type: integer}
        name: {type: string}
        status: {type: string, enum: [active, retired, draft]}
        size: {type: integer}
    NewThing:
      type: object
      required: [name]
      properties:
        name: {type: string}
        status: {type: string, enum: [active, retired, draft], default: draft}
        size: {type: integer, default: 3}
`))
	if err != nil {
		t.Fatal(err)
	}
	srv, err := New(Options{Profiles: []*specs.Profile{p}, Seed: 3})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv)
	t.Cleanup(hs.Close)
	for _, tc := range []struct {
		body, status string
		size         float64
	}{{`{"name":"a"}`, "draft", 3}, {`{"name":"b","status":"active","size":9}`, "active", 9}} {
		got, body := call(t, http.DefaultClient, "POST", hs.URL+"/things", http.Header{"Content-Type": {"application/json"}}, tc.body)
		thing := decodeJSON[map[string]any](t, []byte(body))
		if got != 201 || thing["status"] != tc.status || thing["size"] != tc.size {
			t.Errorf("create %s: %d %s, want status %s and size %v", tc.body, got, body, tc.status, tc.size)
		}
	}
}
