package mock

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"testing"
)

// mcpClient is the request logic of the published OpManager MCP server
// (github.com/sachdev27/opmanager-mcp-server, opmanager_mcp/api_client.py,
// which wraps 85 of the vendor's REST operations), in Go and unchanged but
// for the base URL: an httpx client whose default headers are apiKey,
// Content-Type: application/json and Accept: application/json; GET with the
// tool's arguments as query parameters, POST with them as query parameters
// and no body (json=None); 401 an authentication error, 429 a rate-limit
// error carrying Retry-After, any other status from 400 an API error with
// error.message, and otherwise the JSON, an object or an array.
type mcpClient struct {
	base, apiKey string
	http         *http.Client
}

type mcpError struct {
	kind       string // authentication, rate-limit, api
	status     int
	message    string
	retryAfter int
}

func (e *mcpError) Error() string { return fmt.Sprintf("%s error %d: %s", e.kind, e.status, e.message) }

func (c *mcpClient) execute(path, method string, params url.Values) (any, error) {
	u := c.base + path
	if len(params) > 0 {
		u += "?" + params.Encode()
	}
	req, err := http.NewRequest(method, u, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("apiKey", c.apiKey)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	switch {
	case resp.StatusCode == http.StatusUnauthorized:
		return nil, &mcpError{kind: "authentication", status: 401, message: "API key authentication failed - check your API key"}
	case resp.StatusCode == http.StatusTooManyRequests:
		n, _ := strconv.Atoi(resp.Header.Get("Retry-After"))
		return nil, &mcpError{kind: "rate-limit", status: 429, retryAfter: n}
	case resp.StatusCode >= 400:
		var e struct {
			Error struct {
				Message string `json:"message"`
			} `json:"error"`
		}
		msg := string(body)
		if json.Unmarshal(body, &e) == nil && e.Error.Message != "" {
			msg = e.Error.Message
		}
		return nil, &mcpError{kind: "api", status: resp.StatusCode, message: msg}
	}
	var v any
	if err := json.Unmarshal(body, &v); err != nil {
		return map[string]any{"raw_response": string(body)}, nil
	}
	return v, nil
}

// TestOpManagerMCPServerSequence replays what the published MCP server
// sends for a typical conversation (test the connection, list devices,
// list the critical alarms, acknowledge one, add a note, read everything
// back, look at an interface, clear the alarm) against the mock, and what
// it makes of the answers: each call succeeds and reads what the previous
// ones did.
func TestOpManagerMCPServerSequence(t *testing.T) {
	h := newHarness(t)
	key := fixtureKey(t, "opmanager", "full")
	c := &mcpClient{base: h.http.URL, apiKey: key.Secret, http: http.DefaultClient}
	call := func(path, method string, kv ...string) any {
		t.Helper()
		q := url.Values{}
		for i := 0; i+1 < len(kv); i += 2 {
			q.Set(kv[i], kv[i+1])
		}
		v, err := c.execute(path, method, q)
		if err != nil {
			t.Fatalf("%s %s %v: %v", method, path, q, err)
		}
		return v
	}
	asList := func(v any) []map[string]any {
		t.Helper()
		arr, ok := v.([]any)
		if !ok {
			t.Fatalf("not the bare array the client expects: %T", v)
		}
		out := make([]map[string]any, len(arr))
		for i, e := range arr {
			out[i], _ = e.(map[string]any)
		}
		return out
	}

	// test_connection: GET /api/json/device/listDevices.
	devices := call("/api/json/device/listDevices", "GET").(map[string]any)["devices"].([]any)
	if len(devices) != 1100 {
		t.Fatalf("listDevices: %d devices", len(devices))
	}
	// listAlarms with severity=1, as the tool's schema (enum "1"…"5") sends it.
	critical := asList(call("/api/json/alarm/listAlarms", "GET", "severity", "1"))
	if len(critical) == 0 {
		t.Fatal("no critical alarm")
	}
	target := critical[0]
	for _, a := range critical {
		if a["numericSeverity"] != 1.0 || a["severityString"] != "Critical" {
			t.Errorf("severity=1 answers %v", a)
		}
		if a["who"] == "Unacknowledged" && target["who"] != "Unacknowledged" {
			target = a
		}
	}
	entity, device := fmt.Sprint(target["entity"]), fmt.Sprint(target["deviceName"])
	// The alarm's device is one the device list has.
	if call("/api/json/device/getDeviceSummary", "GET", "name", device).(map[string]any)["deviceName"] != device {
		t.Errorf("getDeviceSummary does not answer the alarm's device %s", device)
	}
	ack := call("/api/json/alarm/acknowledgeAlarm", "POST", "entity", entity).(map[string]any)
	if ack["result"].(map[string]any)["message"] != "Alarm has been successfully Acknowledged" {
		t.Errorf("acknowledgeAlarm answered %v", ack)
	}
	call("/api/json/alarm/addNotes", "POST", "entity", entity, "notes", "Investigating from the assistant")
	// Read back, as the client's follow-up tools do.
	mine := asList(call("/api/json/alarm/listAlarms", "GET", "deviceName", device))
	found := false
	for _, a := range mine {
		if a["entity"] == entity {
			found = true
			if a["who"] != "admin" {
				t.Errorf("after acknowledgeAlarm the alarm reads who %v, want admin", a["who"])
			}
		}
		if a["deviceName"] != device {
			t.Errorf("deviceName=%s answers an alarm of %v", device, a["deviceName"])
		}
	}
	if !found {
		t.Fatalf("deviceName=%s does not list the acknowledged alarm", device)
	}
	if props := call("/api/json/alarm/alarmProperties", "GET", "entity", entity).(map[string]any); props["who"] != "admin" || props["source"] != device {
		t.Errorf("alarmProperties after acknowledging: %v", props)
	}
	notes := asList(call("/api/json/alarm/getAnnotation", "GET", "entity", entity))
	if len(notes) == 0 || notes[len(notes)-1]["notes"] != "Investigating from the assistant" || notes[len(notes)-1]["who"] != "admin" {
		t.Errorf("getAnnotation after addNotes: %v", notes)
	}
	// The vendor's sample listInterfaces request, then the first interface's summary.
	page := call("/api/json/device/listInterfaces", "GET", "isFluidic", "true", "rows", "100", "page", "1", "sortByColumn", "statusNum", "sortByType", "desc").(map[string]any)
	rows := page["rows"].([]any)
	if len(rows) == 0 {
		t.Fatal("listInterfaces: no rows")
	}
	first := rows[0].(map[string]any)
	for _, r := range rows {
		if r.(map[string]any)["statusNum"].(float64) > first["statusNum"].(float64) {
			t.Errorf("sortByColumn=statusNum&sortByType=desc: %v before %v", first["statusNum"], r.(map[string]any)["statusNum"])
		}
	}
	sum := call("/api/json/device/getInterfaceSummary", "GET", "interfaceName", fmt.Sprint(first["interfaceName"])).(map[string]any)
	if sum["name"] != first["interfaceName"] || sum["displayName"] != first["displayName"] {
		t.Errorf("getInterfaceSummary %v does not match the listed interface %v", sum, first)
	}
	call("/api/json/alarm/clearAlarm", "POST", "entity", entity)
	for _, a := range asList(call("/api/json/alarm/listAlarms", "GET", "severity", "1")) {
		if a["entity"] == entity {
			t.Errorf("the cleared alarm is still listed as critical")
		}
	}

	// What the client makes of errors.
	var e *mcpError
	bad := &mcpClient{base: h.http.URL, apiKey: "not-a-key", http: http.DefaultClient}
	if _, err := bad.execute("/api/json/device/listDevices", "GET", nil); !errors.As(err, &e) || e.kind != "authentication" {
		t.Errorf("a wrong key: %v, want the client's authentication error", err)
	}
	if _, err := c.execute("/api/json/alarm/alarmProperties", "GET", url.Values{"entity": {"no_such_alarm"}}); !errors.As(err, &e) || e.status != 404 || e.message == "" {
		t.Errorf("an unknown alarm: %v, want an API error with the vendor's message", err)
	}
	if _, err := c.execute("/api/json/alarm/listAlarms", "GET", url.Values{"alertType": {"ActiveAlarms"}}); !errors.As(err, &e) || e.status != 400 {
		t.Errorf("alertType: %v, want a 400 the client reports", err)
	}
}
