package mock

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strings"
	"testing"
)

// The request logic of a published workflow integration for Ivanti Neurons
// for ITSM, replayed unchanged against the mock (only its base URL set):
// @synergyconsulting/n8n-nodes-ivanti-neurons-for-itsm 1.2.11,
// https://github.com/syn-con/n8n-nodes-ivanti-neurons-for-itsm at
// a79de3ec81a68d47db02179e3bed46816e45e293. Each method below is one of its
// functions, ported line by line (file and function named); what the node
// does with the answer (parse, page, strip @odata.context, build the error
// message from message[]) is ported too, since that is what breaks when a
// server answers differently.
type n8nIvantiClient struct {
	t      *testing.T
	tenant string // credentials.tenant: the mock's base URL (the only change)
	apiKey string // credentials.apiKey
	log    []string
}

// n8nError is what the node throws for a non-2xx answer (NodeApiError with
// buildIvantiErrorMessage's message).
type n8nError struct {
	status  int
	message string
}

func (e *n8nError) Error() string { return e.message }

// encodeURIComponent is JavaScript's, which the node and n8n's query
// serializer use: everything but A-Z a-z 0-9 - _ . ! ~ * ' ( ) is escaped,
// a space as %20.
func encodeURIComponent(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || strings.IndexByte("-_.!~*'()", c) >= 0 {
			b.WriteByte(c)
			continue
		}
		fmt.Fprintf(&b, "%%%02X", c)
	}
	return b.String()
}

// qsPair is one query-string parameter, in the order the node sets it.
type qsPair struct{ k, v string }

// buildBaseUrl (transports/index.ts): https://{tenant}/api{endpoint}; the
// mock's tenant carries its own scheme, the one change to the client.
func (c *n8nIvantiClient) buildBaseUrl(endpoint string) string {
	return strings.TrimRight(c.tenant, "/") + "/api" + endpoint
}

// ivantiApiRequest (transports/index.ts): Authorization rest_api_key=…,
// qs serialized, body as JSON, full response; non-2xx throws with
// buildIvantiErrorMessage; the body is parsed when it is JSON.
func (c *n8nIvantiClient) ivantiApiRequest(method, endpoint string, qs []qsPair, body map[string]any) (any, error) {
	u := c.buildBaseUrl(endpoint)
	var q []string
	for _, p := range qs {
		q = append(q, encodeURIComponent(p.k)+"="+encodeURIComponent(p.v))
	}
	if len(q) > 0 {
		u += "?" + strings.Join(q, "&")
	}
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, u, rd)
	if err != nil {
		c.t.Fatalf("%s %s: %v", method, u, err)
	}
	req.Header.Set("Authorization", "rest_api_key="+c.apiKey) // credentials: authenticate.properties.headers
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatalf("%s %s: %v", method, u, err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	c.log = append(c.log, fmt.Sprintf("%s %s → %d", method, strings.TrimPrefix(u, c.tenant), resp.StatusCode))
	if resp.StatusCode < 200 || resp.StatusCode >= 300 {
		return nil, &n8nError{resp.StatusCode, buildIvantiErrorMessage(resp.StatusCode, data)}
	}
	return parseJsonBody(data), nil
}

// parseJsonBody (transports/index.ts): JSON when it parses, else the text.
func parseJsonBody(data []byte) any {
	s := strings.TrimSpace(string(data))
	if s == "" {
		return string(data)
	}
	var v any
	if json.Unmarshal([]byte(s), &v) != nil {
		return string(data)
	}
	return v
}

// buildIvantiErrorMessage (transports/index.ts): the body's message (joined
// with ", " when a list) or error.message, else the body itself.
func buildIvantiErrorMessage(status int, data []byte) string {
	var detail string
	var body map[string]any
	if json.Unmarshal(data, &body) == nil && body != nil {
		msg := body["message"]
		if msg == nil {
			if e, ok := body["error"].(map[string]any); ok {
				msg = e["message"]
			}
		}
		switch m := msg.(type) {
		case []any:
			parts := make([]string, len(m))
			for i, p := range m {
				parts[i] = fmt.Sprint(p)
			}
			detail = strings.Join(parts, ", ")
		case string:
			detail = m
		default:
			b, _ := json.Marshal(body)
			detail = string(b)
		}
	} else {
		detail = strings.TrimSpace(string(data))
	}
	if detail == "" {
		return fmt.Sprintf("Ivanti API request failed (HTTP %d)", status)
	}
	return fmt.Sprintf("Ivanti API request failed (HTTP %d): %s", status, detail)
}

// extractValueArray (transports/index.ts): the OData list's value array; an
// empty answer is no records; anything else throws.
func (c *n8nIvantiClient) extractValueArray(resp any) []map[string]any {
	if s, ok := resp.(string); ok && s == "" {
		return nil
	}
	m, _ := resp.(map[string]any)
	arr, ok := m["value"].([]any)
	if !ok {
		c.t.Fatalf(`Unexpected Ivanti API response: expected an OData list with a "value" array: %v`, resp)
	}
	out := make([]map[string]any, len(arr))
	for i, v := range arr {
		out[i], _ = v.(map[string]any)
	}
	return out
}

// odataBatchSize is ODATA_BATCH_SIZE (transports/index.ts).
const odataBatchSize = 100

// ivantiApiRequestAllItemsWithLimit (transports/index.ts): pages of
// min(remaining, 100) at $skip = records so far, until the limit or a short page.
func (c *n8nIvantiClient) ivantiApiRequestAllItemsWithLimit(endpoint string, qs []qsPair, limit int) ([]map[string]any, error) {
	var out []map[string]any
	skip := 0
	for len(out) < limit {
		remaining := limit - len(out)
		page := append(append([]qsPair{}, qs...), qsPair{"$top", fmt.Sprint(min(remaining, odataBatchSize))}, qsPair{"$skip", fmt.Sprint(skip)})
		resp, err := c.ivantiApiRequest("GET", endpoint, page, nil)
		if err != nil {
			return nil, err
		}
		value := c.extractValueArray(resp)
		out = append(out, value...)
		skip += len(value)
		if len(value) < odataBatchSize {
			break
		}
	}
	return out, nil
}

// ivantiApiRequestAllItems (transports/index.ts): pages of 100 until a short page.
func (c *n8nIvantiClient) ivantiApiRequestAllItems(endpoint string, qs []qsPair) ([]map[string]any, error) {
	var out []map[string]any
	skip := 0
	for {
		page := append(append([]qsPair{}, qs...), qsPair{"$top", fmt.Sprint(odataBatchSize)}, qsPair{"$skip", fmt.Sprint(skip)})
		resp, err := c.ivantiApiRequest("GET", endpoint, page, nil)
		if err != nil {
			return nil, err
		}
		value := c.extractValueArray(resp)
		out = append(out, value...)
		skip += len(value)
		if len(value) < odataBatchSize {
			return out, nil
		}
	}
}

// fetchRecords (transports/index.ts): returnAll walks everything; a limit
// above 100 walks to it; else one request with $top = limit.
func (c *n8nIvantiClient) fetchRecords(endpoint string, qs []qsPair, returnAll bool, limit int) ([]map[string]any, error) {
	if returnAll {
		return c.ivantiApiRequestAllItems(endpoint, qs)
	}
	if limit > odataBatchSize {
		return c.ivantiApiRequestAllItemsWithLimit(endpoint, qs, limit)
	}
	resp, err := c.ivantiApiRequest("GET", endpoint, append(qs, qsPair{"$top", fmt.Sprint(limit)}), nil)
	if err != nil {
		return nil, err
	}
	return c.extractValueArray(resp), nil
}

// odataFilter is one row of the node's OData Filter collection.
type odataFilter struct{ fieldName, fieldType, operation, value, logicalOperator string }

// buildODataQuery (odata/queryBuilder.ts): $select from the chosen fields,
// $filter from the rows ("Field op value" joined by their operators, strings
// quoted with quotes doubled), $orderby "field direction".
func buildODataQuery(selectFields []string, filters []odataFilter, orderBy, direction string) []qsPair {
	var qs []qsPair
	if selectFields != nil {
		qs = append(qs, qsPair{"$select", strings.Join(selectFields, ",")})
	}
	if len(filters) > 0 {
		var b strings.Builder
		for i, f := range filters {
			if i > 0 {
				b.WriteString(" " + f.logicalOperator + " ")
			}
			switch f.operation {
			case "isnull":
				b.WriteString(f.fieldName + " eq null")
				continue
			case "isnotnull":
				b.WriteString(f.fieldName + " ne null")
				continue
			}
			v := f.value
			if f.fieldType == "string" {
				v = "'" + strings.ReplaceAll(v, "'", "''") + "'" // escapeODataString
			}
			b.WriteString(f.fieldName + " " + f.operation + " " + v)
		}
		qs = append(qs, qsPair{"$filter", b.String()})
	}
	if orderBy != "" {
		qs = append(qs, qsPair{"$orderby", orderBy + " " + direction})
	}
	return qs
}

// credentialTest is the credential's test request
// (credentials/ivantiNeuronsForItsmApiKeyApi.credentials.ts): the base URL
// …/api/odata/businessobject and url "/Incidents?$top=1", as written.
func (c *n8nIvantiClient) credentialTest() (int, []byte) {
	req, _ := http.NewRequest("GET", c.buildBaseUrl("/odata/businessobject")+"/Incidents?$top=1", nil)
	req.Header.Set("Authorization", "rest_api_key="+c.apiKey)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, data
}

// TestN8nIvantiClientReplay drives the n8n node's operations in the order a
// workflow uses them: the key test on Incidents, Get Many (return all,
// a limit above a batch, filters, select and order), Search By Keyword,
// Create, Get By Record ID, Update, Get Related, Delete By Record ID, and a
// wrong key reaching the node's error with the server's message[].
func TestN8nIvantiClientReplay(t *testing.T) {
	h := newHarness(t)
	p := profileNamed(t, "ivanti-ism")
	full := fixtureKey(t, p.Name, "full")
	c := &n8nIvantiClient{t: t, tenant: h.http.URL, apiKey: full.Secret}
	defer func() {
		if t.Failed() {
			t.Logf("requests:\n  %s", strings.Join(c.log, "\n  "))
		}
	}()
	const object = "Incidents" // the node's placeholder and its credential test's spelling
	base := "/odata/businessobject/" + object

	// The credential test.
	if st, body := c.credentialTest(); st != 200 {
		t.Fatalf("credential test GET …/Incidents?$top=1: %d %s", st, body)
	}

	// Get Many, Return All: every incident once, the walk stopping on a short page.
	all, err := c.fetchRecords(base, buildODataQuery(nil, nil, "", ""), true, 0)
	if err != nil {
		t.Fatal(err)
	}
	total := len(h.srv.dataset(p.Name).cols["incidents"].items)
	seen := map[any]bool{}
	for _, r := range all {
		if seen[r["RecId"]] {
			t.Errorf("Return All yields %v twice", r["RecId"])
		}
		seen[r["RecId"]] = true
	}
	if len(all) != total {
		t.Errorf("Return All yields %d incidents, the tenant has %d", len(all), total)
	}

	// Get Many with a limit above one batch: 100 then 50.
	limited, err := c.fetchRecords(base, buildODataQuery(nil, nil, "", ""), false, 150)
	if err != nil || len(limited) != 150 {
		t.Fatalf("limit 150: %d records, %v", len(limited), err)
	}
	for i := range limited {
		if limited[i]["RecId"] != all[i]["RecId"] {
			t.Fatalf("limit 150: record %d is %v, Return All's is %v", i, limited[i]["RecId"], all[i]["RecId"])
		}
	}

	// Get Many with filters, select and order.
	qs := buildODataQuery([]string{"RecId", "IncidentNumber", "Subject", "Status", "Priority"},
		[]odataFilter{
			{fieldName: "Status", fieldType: "string", operation: "eq", value: "Active"},
			{fieldName: "IncidentNumber", fieldType: "number", operation: "gt", value: "0", logicalOperator: "and"},
		}, "IncidentNumber", "desc")
	active, err := c.fetchRecords(base, qs, false, 40)
	if err != nil {
		t.Fatal(err)
	}
	if len(active) == 0 {
		t.Fatal("$filter=Status eq 'Active' and IncidentNumber gt 0 finds nothing")
	}
	for i, r := range active {
		if r["Status"] != "Active" || len(r) != 5 {
			t.Errorf("filtered and selected record %v", r)
		}
		if i > 0 && r["IncidentNumber"].(float64) > active[i-1]["IncidentNumber"].(float64) {
			t.Errorf("$orderby=IncidentNumber desc: %v after %v", r["IncidentNumber"], active[i-1]["IncidentNumber"])
		}
	}
	quoted, err := c.fetchRecords(base, buildODataQuery(nil, []odataFilter{{fieldName: "Subject", fieldType: "string", operation: "eq", value: "O'Brien's laptop"}}, "", ""), false, 10)
	if err != nil || len(quoted) != 0 {
		t.Errorf("a $filter string with a doubled quote: %d records, %v", len(quoted), err)
	}

	// Search By Keyword (object/searchByKeyword.operation.ts): $select and $search, limit 50.
	found, err := c.ivantiApiRequestAllItemsWithLimit(base, []qsPair{{"$search", "expense report"}}, 50)
	if err != nil || len(found) == 0 || found[0]["Subject"] == nil {
		t.Errorf("Search By Keyword \"expense report\": %d records, %v", len(found), err)
	}

	// Full Text Search In Single Object (search/fullTextSearchInSingleObject.operation.ts),
	// limit 25 (its MAX_LIMIT): POST /rest/search/fulltext. The node sends
	// "$top" and "$skip" where the vendor documents Top and Skip; they are
	// ignored, so the node gets the first page of the documented default
	// size and stops there (a page as long as MAX_LIMIT, fewer than totalRows).
	ft, err := c.ivantiApiRequest("POST", "/rest/search/fulltext", nil, map[string]any{"Text": "e", "ObjectType": "Incident", "$top": 25, "$skip": 0})
	if err != nil {
		t.Fatalf("Full Text Search: %v", err)
	}
	ftm, _ := ft.(map[string]any)
	rows, _ := ftm["data"].([]any)
	if total, _ := ftm["totalRows"].(float64); len(rows) != 25 || int(total) <= 25 {
		t.Errorf("Full Text Search for \"e\": %d rows of %v", len(rows), ftm["totalRows"])
	}

	// Create (object/create.operation.ts, manual mode: every value a string).
	created, err := c.ivantiApiRequest("POST", base, nil, map[string]any{
		"Subject": "Printer on floor 3 is offline", "Symptom": "Jobs stay queued.", "Priority": "2",
		"ProfileLink_RecID": ivEmployee, "Category": "Printer",
	})
	if err != nil {
		t.Fatalf("Create: %v", err)
	}
	rec, _ := created.(map[string]any)
	delete(rec, "@odata.context")
	recID, _ := rec["RecId"].(string)
	if len(recID) != 32 || rec["Subject"] != "Printer on floor 3 is offline" || rec["IncidentNumber"] == nil {
		t.Fatalf("Create answered %v", rec)
	}

	// Get By Record ID (object/getByRecId.operation.ts).
	got, err := c.ivantiApiRequest("GET", base+"('"+encodeURIComponent(recID)+"')", nil, nil)
	if err != nil || got.(map[string]any)["Category"] != "Printer" {
		t.Fatalf("Get By Record ID: %v %v", got, err)
	}

	// Update (object/update.operation.ts): PUT with the changed fields.
	updated, err := c.ivantiApiRequest("PUT", base+"('"+recID+"')", nil, map[string]any{"Status": "Resolved", "Owner": "JSmith"})
	if err != nil {
		t.Fatalf("Update: %v", err)
	}
	if u := updated.(map[string]any); u["Status"] != "Resolved" || u["Owner"] != "JSmith" || u["Subject"] != "Printer on floor 3 is offline" {
		t.Errorf("Update answered %v", u)
	}
	again, _ := c.ivantiApiRequest("GET", base+"('"+recID+"')", nil, nil)
	if again.(map[string]any)["Status"] != "Resolved" {
		t.Errorf("after Update, Get By Record ID shows %v", again)
	}

	// Get Related (relationship/getRelated.operation.ts), with $select.
	related, err := c.ivantiApiRequest("GET", base+"('"+encodeURIComponent(ivIncident)+"')/IncidentContainsJournal", []qsPair{{"$select", "Subject,ParentLink_RecID"}}, nil)
	if err != nil {
		t.Fatalf("Get Related: %v", err)
	}
	notes := c.extractValueArray(related)
	if len(notes) < 3 {
		t.Errorf("Get Related IncidentContainsJournal: %d notes, want the fixtures' 3", len(notes))
	}
	for _, n := range notes {
		if n["ParentLink_RecID"] != ivIncident || len(n) != 2 {
			t.Errorf("Get Related answered %v", n)
		}
	}

	// Delete By Record ID (object/deleteByRecId.operation.ts); the record is gone after.
	if _, err := c.ivantiApiRequest("DELETE", base+"('"+recID+"')", nil, nil); err != nil {
		t.Fatalf("Delete By Record ID: %v", err)
	}
	_, err = c.ivantiApiRequest("GET", base+"('"+recID+"')", nil, nil)
	if e, ok := err.(*n8nError); !ok || e.status != 404 || !strings.Contains(e.message, recID) {
		t.Errorf("Get By Record ID after the delete: %v", err)
	}

	// A wrong key: the node's error carries the server's message[] joined.
	wrong := &n8nIvantiClient{t: t, tenant: h.http.URL, apiKey: strings.Repeat("0", 32)}
	_, err = wrong.fetchRecords(base, nil, false, 1)
	e, ok := err.(*n8nError)
	if !ok || e.status != 401 || !strings.HasPrefix(e.message, "Ivanti API request failed (HTTP 401): ") || strings.Contains(e.message, `"message"`) {
		t.Errorf("a wrong key: %v, want the node's error with the server's message text", err)
	}
	if st, _ := wrong.credentialTest(); st != 401 {
		t.Errorf("the credential test with a wrong key: %d, want 401", st)
	}
}

// TestRapid7IvantiPluginReplay replays the requests of Rapid7's
// InsightConnect Ivanti Service Manager plugin
// (plugins/ivanti_service_manager/icon_ivanti_service_manager/util/api.py,
// rapid7/insightconnect-plugins at 9e99f01abe0db5bbe457219c63b9133017309d08):
// Python requests on URLs the plugin writes by hand, spaces and quotes as
// requests sends them.
func TestRapid7IvantiPluginReplay(t *testing.T) {
	h := newHarness(t)
	p := profileNamed(t, "ivanti-ism")
	key := fixtureKey(t, p.Name, "full").Secret
	// _call_api: url.rstrip("/").replace("/api", "") + "/api/" + path; 204 is {}.
	call := func(method, path string, payload any) (int, map[string]any) {
		t.Helper()
		var rd io.Reader
		if payload != nil {
			b, _ := json.Marshal(payload)
			rd = bytes.NewReader(b)
		}
		// requests requotes the URL: a space becomes %20, $ ' ( ) stay.
		req, err := http.NewRequest(method, h.http.URL+"/api/"+strings.ReplaceAll(path, " ", "%20"), rd)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Authorization", "rest_api_key="+key)
		if payload != nil {
			req.Header.Set("Content-Type", "application/json")
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var out map[string]any
		_ = json.NewDecoder(resp.Body).Decode(&out)
		return resp.StatusCode, out
	}
	value := func(m map[string]any) []map[string]any {
		arr, _ := m["value"].([]any)
		out := make([]map[string]any, len(arr))
		for i, v := range arr {
			out[i], _ = v.(map[string]any)
		}
		return out
	}

	// search_employee: exactly one employee must match.
	st, body := call("GET", "odata/businessobject/employees?$search=rwright@example.com", nil)
	if emps := value(body); st != 200 || len(emps) != 1 || emps[0]["RecId"] != ivEmployee {
		t.Fatalf("search_employee: %d %v", st, body)
	}
	// post_incident, then get_incident_by_number through $filter.
	st, inc := call("POST", "odata/businessobject/incidents", map[string]any{"Subject": "VPN drops every hour", "Symptom": "Since Monday.", "ProfileLink_RecID": ivEmployee, "Status": "Logged", "Urgency": "High"})
	if st != 201 {
		t.Fatalf("post_incident: %d %v", st, inc)
	}
	number := int64(inc["IncidentNumber"].(float64))
	st, body = call("GET", fmt.Sprintf("odata/businessobject/incidents?$filter=IncidentNumber eq %d", number), nil)
	if found := value(body); st != 200 || len(found) != 1 || found[0]["RecId"] != inc["RecId"] {
		t.Fatalf("get_incident_by_number %d: %d %v", number, st, body)
	}
	// post_journal_note on it (the plugin writes journal__Notess).
	st, note := call("POST", "odata/businessobject/journal__Notess", map[string]any{"ParentLink_RecID": inc["RecId"], "Subject": "Escalated", "NotesBody": "Network team engaged.", "Category": "Memo"})
	if st != 201 || note["ParentLink_Category"] != "Incident" {
		t.Fatalf("post_journal_note: %d %v", st, note)
	}
	// update_incident by RecId, get_all_incidents newest first, delete_incident.
	if st, body := call("PUT", fmt.Sprintf("odata/businessobject/incidents('%s')", inc["RecId"]), map[string]any{"Status": "Active"}); st != 200 || body["Status"] != "Active" {
		t.Fatalf("update_incident: %d %v", st, body)
	}
	st, body = call("GET", "odata/businessobject/incidents?$orderby=IncidentNumber desc", nil)
	list := value(body)
	if st != 200 || len(list) == 0 || list[0]["RecId"] != inc["RecId"] {
		t.Fatalf("get_all_incidents: %d, first %v, want the newest %v", st, list, inc["RecId"])
	}
	nums := make([]float64, len(list))
	for i, r := range list {
		nums[i] = r["IncidentNumber"].(float64)
	}
	if !sort.IsSorted(sort.Reverse(sort.Float64Slice(nums))) {
		t.Errorf("$orderby=IncidentNumber desc: %v", nums)
	}
	if st, body := call("DELETE", fmt.Sprintf("odata/businessobject/incidents('%s')", inc["RecId"]), nil); st != 204 {
		t.Errorf("delete_incident: %d %v", st, body)
	}
}
