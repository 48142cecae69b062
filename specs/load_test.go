package specs

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
)

func loadEmbedded(t testing.TB) map[string]*Profile {
	t.Helper()
	ps, err := LoadEmbedded()
	if err != nil {
		t.Fatalf("LoadEmbedded: %v", err)
	}
	out := map[string]*Profile{}
	for _, p := range ps {
		out[p.Name] = p
	}
	return out
}

func TestEmbeddedProfilesAreTheFourVendors(t *testing.T) {
	got := loadEmbedded(t)
	want := []string{"ivanti-ism", "mongodb-opsmanager", "opmanager", "opsmerge"}
	if names := sortedKeys(got); !reflect.DeepEqual(names, want) {
		t.Fatalf("profiles = %v, want %v", names, want)
	}
}

func TestAuthModel(t *testing.T) {
	profiles := loadEmbedded(t)
	tests := []struct {
		profile     string
		mode        AuthMode
		schemes     []string // name:in:param:format
		prefix      string
		realm       string
		algorithms  []string
		bindTenant  bool
		bindIP      bool
		apiDisabled int
	}{
		{profile: "opmanager", mode: AuthAPIKey, schemes: []string{"apikeyHeader:header:apikey:{key}", "apikeyQuery:query:apiKey:{key}"}, apiDisabled: 403},
		{profile: "opsmerge", mode: AuthBearer, schemes: []string{"bearerAuth:::{key}"}, prefix: "om_", apiDisabled: 401},
		{profile: "mongodb-opsmanager", mode: AuthDigest, schemes: []string{"digestAuth:::{key}"}, realm: "MMS Public API", algorithms: []string{"MD5"}, bindIP: true, apiDisabled: 401},
		{profile: "ivanti-ism", mode: AuthAPIKey, schemes: []string{"restApiKey:header:Authorization:rest_api_key={key}"}, bindTenant: true, bindIP: true, apiDisabled: 401},
	}
	for _, tt := range tests {
		t.Run(tt.profile, func(t *testing.T) {
			p := profiles[tt.profile]
			a := p.Auth
			if a.Mode != tt.mode {
				t.Errorf("mode = %s, want %s", a.Mode, tt.mode)
			}
			var schemes []string
			for _, s := range a.Schemes {
				schemes = append(schemes, s.Name+":"+s.In+":"+s.Param+":"+s.Format)
			}
			if !reflect.DeepEqual(schemes, tt.schemes) {
				t.Errorf("schemes = %v, want %v", schemes, tt.schemes)
			}
			if a.TokenPrefix != tt.prefix {
				t.Errorf("token prefix = %q, want %q", a.TokenPrefix, tt.prefix)
			}
			if tt.realm != "" {
				if a.Digest == nil {
					t.Fatal("digest policy missing")
				}
				if a.Digest.Realm != tt.realm || !reflect.DeepEqual(a.Digest.Algorithms, tt.algorithms) || a.Digest.QOP != "auth" || a.Digest.NonceLifetime != 5*time.Minute {
					t.Errorf("digest = %+v, want realm %q, algorithms %v, qop auth, lifetime 5m", *a.Digest, tt.realm, tt.algorithms)
				}
			} else if a.Digest != nil {
				t.Errorf("digest policy on a %s profile", a.Mode)
			}
			if a.BindTenant != tt.bindTenant || a.BindIP != tt.bindIP {
				t.Errorf("binding tenant=%v ip=%v, want %v %v", a.BindTenant, a.BindIP, tt.bindTenant, tt.bindIP)
			}
			if p.Access.APIDisabledStatus != tt.apiDisabled {
				t.Errorf("apiDisabledStatus = %d, want %d", p.Access.APIDisabledStatus, tt.apiDisabled)
			}
		})
	}
}

func TestOperationSecurity(t *testing.T) {
	profiles := loadEmbedded(t)
	tests := []struct {
		profile, op string
		want        string // alternatives joined by " | ", each "scheme[scopes]"
	}{
		{"opmanager", "listDevicesV2", "apikeyHeader[inventory:read] | apikeyQuery[inventory:read]"},
		{"opmanager", "listAlarms", "apikeyHeader[alarms:read]"}, // header-only
		{"opmanager", "acknowledgeAlarm", "apikeyHeader[alarms:write] | apikeyQuery[alarms:write]"},
		{"opsmerge", "getAuthMe", "bearerAuth[]"},
		{"opsmerge", "rebootAgent", "bearerAuth[agents:execute]"},
		{"mongodb-opsmanager", "listOrgs", "digestAuth[]"}, // inherited from the document
		{"mongodb-opsmanager", "createOrgApiKey", "digestAuth[ORG_OWNER@{orgId}]"},
		{"ivanti-ism", "deleteChange", "restApiKey[changes:write]"},
	}
	for _, tt := range tests {
		t.Run(tt.profile+"/"+tt.op, func(t *testing.T) {
			o := profiles[tt.profile].Operation(tt.op)
			if o == nil {
				t.Fatalf("no operation %s", tt.op)
			}
			var alts []string
			for _, alt := range o.Security {
				var reqs []string
				for _, r := range alt {
					reqs = append(reqs, r.Scheme.Name+"["+strings.Join(r.Scopes, ",")+"]")
				}
				alts = append(alts, strings.Join(reqs, "+"))
			}
			if got := strings.Join(alts, " | "); got != tt.want {
				t.Errorf("security = %s, want %s", got, tt.want)
			}
			if o.Public {
				t.Error("operation is public, want authenticated")
			}
		})
	}
}

func TestEnvelopeAndErrors(t *testing.T) {
	profiles := loadEmbedded(t)
	tests := []struct {
		profile      string
		success      string
		envelope     string
		pretty       string
		unauthorized string // the rendered 401 body
		rateLimited  string
	}{
		{profile: "opmanager",
			unauthorized: `{"error":{"code":401,"message":"Missing or invalid API key."}}`,
			rateLimited:  `{"error":{"code":429,"message":"Rate limit exceeded. Wait before retrying."}}`},
		{profile: "opsmerge", success: "data",
			unauthorized: `{"error":{"code":"UNAUTHORIZED","message":"Missing or invalid API key"}}`,
			rateLimited:  `{"error":{"code":"RATE_LIMITED","message":"API key rate limit exceeded"}}`},
		{profile: "mongodb-opsmanager", envelope: "envelope", pretty: "pretty",
			unauthorized: `{"detail":"You are not authorized for this resource.","error":401,"errorCode":"USER_UNAUTHORIZED","parameters":[],"reason":"Unauthorized"}`,
			rateLimited:  `{"detail":"Too many requests for this API key.","error":429,"errorCode":"RATE_LIMITED","parameters":[],"reason":"Too Many Requests"}`},
		{profile: "ivanti-ism",
			unauthorized: `{"code":"ISM_4001","description":"Unauthorized","message":["The REST API key is not authorized for this tenant or IP."]}`,
			rateLimited:  `{"code":"ISM_4029","description":"Too Many Requests","message":["Too many requests."]}`},
	}
	for _, tt := range tests {
		t.Run(tt.profile, func(t *testing.T) {
			p := profiles[tt.profile]
			if p.Envelope.Success != tt.success || p.Envelope.EnvelopeParam != tt.envelope || p.Envelope.PrettyParam != tt.pretty {
				t.Errorf("envelope = %+v, want success %q envelope %q pretty %q", p.Envelope, tt.success, tt.envelope, tt.pretty)
			}
			for _, c := range []struct {
				kind   ErrorKind
				status int
				want   string
			}{{Unauthenticated, 401, tt.unauthorized}, {RateLimited, 429, tt.rateLimited}} {
				status, body := p.Errors.Render(c.kind, "")
				if status != c.status || string(body) != c.want {
					t.Errorf("Render(%s) = %d %s, want %d %s", c.kind, status, body, c.status, c.want)
				}
			}
			for _, k := range ErrorKinds {
				if _, ok := p.Errors.Kinds[k]; !ok {
					t.Errorf("error kind %s is not mapped", k)
				}
			}
		})
	}
}

func TestRenderFillsParametersAndMessage(t *testing.T) {
	p := loadEmbedded(t)["mongodb-opsmanager"]
	_, body := p.Errors.Render(InvalidParameter, "itemsPerPage must be between 1 and 500", "itemsPerPage")
	var got map[string]any
	if err := json.Unmarshal(body, &got); err != nil {
		t.Fatal(err)
	}
	if got["detail"] != "itemsPerPage must be between 1 and 500" || !reflect.DeepEqual(got["parameters"], []any{"itemsPerPage"}) || got["errorCode"] != "INVALID_QUERY_PARAMETER" {
		t.Errorf("body = %s", body)
	}
}

func TestPaginationModel(t *testing.T) {
	profiles := loadEmbedded(t)
	tests := []struct {
		profile   string
		style     PageStyle
		page      Bound
		skip      Bound
		size      Bound
		count     string
		overflow  Policy
		underflow Policy
		fields    PageFields
		stop      StopRule
		paginated []string
	}{
		{"opmanager", StylePage, Bound{"page", 1, 1, 0}, Bound{}, Bound{"rows", 50, 1, 1000}, "", Clamp, Reject,
			PageFields{Items: "rows", TotalItems: "records", TotalPages: "total", Page: "page"}, StopTotalPages, []string{"listDevicesV2", "listInterfaces"}},
		{"opsmerge", StylePage, Bound{"page", 1, 1, 0}, Bound{}, Bound{"per_page", 50, 1, 100}, "", Reject, Reject,
			PageFields{Items: "items", TotalItems: "total", Page: "page"}, StopTotalItems, []string{"listAgents", "listClients", "listTickets"}},
		{"mongodb-opsmanager", StylePage, Bound{"pageNum", 1, 1, 0}, Bound{}, Bound{"itemsPerPage", 100, 1, 500}, "includeCount", Reject, Reject,
			PageFields{Items: "results", TotalItems: "totalCount", Links: "links"}, StopNextLink, []string{"listOrgs", "listGroups", "listOrgApiKeys", "listProjectApiKeys",
				"listOrgGroups", "listOrgUsers", "listGroupUsers", "listGroupTeams", "listApiKeyAccessList", "createApiKeyAccessList"}},
		{"ivanti-ism", StyleOffset, Bound{}, Bound{"$skip", 0, 0, 0}, Bound{"$top", 25, 1, 100}, "", Clamp, Reject,
			PageFields{Items: "value", TotalItems: "@odata.count"}, StopShortPage, []string{"listIncidents", "listIncidentJournals", "listChanges", "listChangeJournals",
				"listProblems", "listProblemJournals", "listServiceReqs", "listEmployees", "listCIs", "listJournalNotes"}},
	}
	for _, tt := range tests {
		t.Run(tt.profile, func(t *testing.T) {
			p := profiles[tt.profile]
			pg := p.Pagination
			if pg == nil {
				t.Fatal("no pagination")
			}
			if pg.Style != tt.style || pg.Page != tt.page || pg.Skip != tt.skip || pg.Size != tt.size {
				t.Errorf("style %s page %+v skip %+v size %+v, want %s %+v %+v %+v", pg.Style, pg.Page, pg.Skip, pg.Size, tt.style, tt.page, tt.skip, tt.size)
			}
			if pg.Count != tt.count || pg.Overflow != tt.overflow || pg.Underflow != tt.underflow || pg.Stop != tt.stop {
				t.Errorf("count %q overflow %s underflow %s stop %s, want %q %s %s %s", pg.Count, pg.Overflow, pg.Underflow, pg.Stop, tt.count, tt.overflow, tt.underflow, tt.stop)
			}
			if pg.Response != tt.fields {
				t.Errorf("response fields %+v, want %+v", pg.Response, tt.fields)
			}
			var paginated []string
			for _, o := range p.Operations {
				if o.Paginated {
					paginated = append(paginated, o.ID)
				}
			}
			if !reflect.DeepEqual(paginated, tt.paginated) {
				t.Errorf("paginated operations %v, want %v", paginated, tt.paginated)
			}
		})
	}
}

func TestRateLimitModel(t *testing.T) {
	profiles := loadEmbedded(t)
	tests := []struct {
		profile string
		headers HeaderStyle
		classes map[string]Limit
		opClass map[string]string // operation → class
	}{
		{"opmanager", HeadersNone, map[string]Limit{"read": {500, time.Minute}, "write": {100, time.Minute}},
			map[string]string{"listDevicesV2": "read", "alarmProperties": "read", "listInterfaces": "read", "acknowledgeAlarm": "write", "clearAlarm": "write", "addNotes": "write"}},
		{"opsmerge", HeadersXRateLimit, map[string]Limit{"default": {300, time.Minute}},
			map[string]string{"listAgents": "default", "createTicket": "default"}},
		{"mongodb-opsmanager", HeadersNone, map[string]Limit{"default": {100, time.Minute}},
			map[string]string{"listOrgs": "default", "deleteOrgApiKey": "default"}},
		{"ivanti-ism", HeadersNone, map[string]Limit{"default": {500, time.Minute}},
			map[string]string{"listIncidents": "default"}},
	}
	for _, tt := range tests {
		t.Run(tt.profile, func(t *testing.T) {
			p := profiles[tt.profile]
			rl := p.RateLimits
			if rl.Per != "key" || rl.Headers != tt.headers || !reflect.DeepEqual(rl.Classes, tt.classes) {
				t.Errorf("rate limits %+v, want per key, headers %s, classes %v", rl, tt.headers, tt.classes)
			}
			for op, class := range tt.opClass {
				if got := p.Operation(op).Class; got != class {
					t.Errorf("%s class = %q, want %q", op, got, class)
				}
			}
			for _, o := range p.Operations {
				if _, ok := rl.Classes[o.Class]; !ok {
					t.Errorf("%s counts against class %q, which has no limit", o.ID, o.Class)
				}
			}
		})
	}
}

func TestStabilityTiers(t *testing.T) {
	p := loadEmbedded(t)["opsmerge"]
	for _, o := range p.Operations {
		if o.Stability == "" {
			t.Errorf("%s has no x-stability; the seed says every operation carries one", o.ID)
		}
	}
	if got := p.Operation("rebootAgent").Stability; got != "beta" {
		t.Errorf("rebootAgent stability = %q, want beta", got)
	}
	dep := p.Operation("getAgentStatus")
	if !dep.Deprecated || dep.Deprecation == nil {
		t.Fatalf("getAgentStatus: deprecated %v, deprecation %+v", dep.Deprecated, dep.Deprecation)
	}
	if got := dep.Deprecation.Sunset.Format(time.DateOnly); got != "2026-11-01" {
		t.Errorf("sunset = %s", got)
	}
}

func TestPathsAndResources(t *testing.T) {
	profiles := loadEmbedded(t)
	tests := []struct {
		profile, op, method, path string
		resource                  Resource
	}{
		{"opmanager", "getDeviceSummary", "GET", "/api/json/device/getDeviceSummary", Resource{Collection: "devices", Action: ActionGet, ID: "name", Field: "deviceName"}},
		{"opmanager", "listDevicesV1", "GET", "/api/json/device/listDevices", Resource{Collection: "devices", Action: ActionList, Field: "id", Items: "devices",
			Filters: map[string]string{"category": "category", "type": "type", "vendor": "vendorName"}, Sort: &Sort{By: "sortByColumn", Order: "sortByType"},
			Unsupported: []string{"severity", "app", "bvName", "protocol", "selectedVTypes", "groupName", "customFields", "getInterfaces", "page", "rows"}}},
		{"opmanager", "listAlarms", "GET", "/api/json/alarm/listAlarms", Resource{Collection: "alarms", Action: ActionList, Field: "id",
			Filters: map[string]string{"deviceName": "deviceName", "severity": "numericSeverity", "category": "category", "entity": "entity"},
			Comparisons: []Comparison{
				{Param: "fromTime", Field: "modTimeLong", Op: "ge", Layouts: []string{"2006-01-02 15:04:05", "2006-01-02"}, Patterns: []string{"yyyy-MM-dd HH:mm:ss", "yyyy-MM-dd"}},
				{Param: "toTime", Field: "modTimeLong", Op: "le", Layouts: []string{"2006-01-02 15:04:05", "2006-01-02"}, Patterns: []string{"yyyy-MM-dd HH:mm:ss", "yyyy-MM-dd"}},
			},
			Unsupported: []string{"alertType"}}},
		{"opmanager", "acknowledgeAlarm", "POST", "/api/json/alarm/acknowledgeAlarm", Resource{Collection: "alarms", Action: ActionDo, ID: "entity", Field: "entity",
			Sets: []Assignment{{Field: "who", Token: TokenUser}}}},
		{"opmanager", "clearAlarm", "POST", "/api/json/alarm/clearAlarm", Resource{Collection: "alarms", Action: ActionDo, ID: "entity", Field: "entity",
			Sets: []Assignment{
				{Field: "numericSeverity", Value: 5}, {Field: "severityString", Value: "Clear"}, {Field: "statusStr", Value: "Clear"},
				{Field: "statusNum", Value: 5}, {Field: "status", Value: 5}, {Field: "severity", Value: "<img src='/images/devices/status5.gif'>&nbsp;Clear"},
				{Field: "modTimeLong", Token: TokenNow, Millis: true},
				{Field: "modTime", Token: TokenNow, Pattern: "d MMM yyyy hh:mm:ss a z", Layout: "2 Jan 2006 03:04:05 PM MST"},
			}}},
		{"opmanager", "addNotes", "POST", "/api/json/alarm/addNotes", Resource{Collection: "annotations", Action: ActionCreate, Field: "noteID",
			Sets: []Assignment{
				{Field: "entity", Token: TokenParam, Param: "entity"}, {Field: "notes", Token: TokenParam, Param: "notes"}, {Field: "who", Token: TokenUser},
				{Field: "modTime", Token: TokenNow, Millis: true}, {Field: "modTimeStr", Token: TokenNow, Pattern: "d MMM yyyy hh:mm:ss a z", Layout: "2 Jan 2006 03:04:05 PM MST"},
			}}},
		{"opmanager", "getInterfaceSummary", "GET", "/api/json/device/getInterfaceSummary", Resource{Collection: "interfaces", Action: ActionGet, ID: "interfaceName", Field: "interfaceName",
			View: map[string]string{"name": "interfaceName", "intfDisplayName": "interfaceDisplayName", "IntfIpaddress": "ipAddress", "adminState": "adminStatus",
				"operState": "operStatus", "stringStatus": "statusStr", "status": "statusNum", "inSpeedDisplayValue": "inSpeed", "outSpeedDisplayValue": "outSpeed"}}},
		{"opsmerge", "getAgent", "GET", "/api/v1/agents/{agentId}", Resource{Collection: "agents", Action: ActionGet, ID: "agentId", Field: "id"}},
		{"mongodb-opsmanager", "assignProjectApiKey", "PATCH", "/api/public/v1.0/groups/{groupId}/apiKeys/{apiKeyId}", Resource{Collection: "apiKeys", Action: ActionAssign, ID: "apiKeyId", Field: "id", Parent: "groupId", Source: SourceKeys}},
		{"ivanti-ism", "getIncident", "GET", "/api/odata/businessobject/incidents('{recId}')", Resource{Collection: "incidents", Action: ActionGet, ID: "recId", Field: "RecId"}},
	}
	for _, tt := range tests {
		t.Run(tt.profile+"/"+tt.op, func(t *testing.T) {
			o := profiles[tt.profile].Operation(tt.op)
			if o == nil {
				t.Fatalf("no operation %s", tt.op)
			}
			if o.Method != tt.method || o.Path != tt.path {
				t.Errorf("%s %s, want %s %s", o.Method, o.Path, tt.method, tt.path)
			}
			if o.Resource == nil {
				t.Fatalf("no resource, want %+v", tt.resource)
			}
			got := *o.Resource
			if got.Source == SourceData && got.Item == nil {
				t.Errorf("no item schema for collection %s", got.Collection)
			}
			got.Item, got.node = nil, nil
			got.Sets = slices.Clone(got.Sets)
			for i := range got.Sets {
				if got.Sets[i].Schema == nil {
					t.Errorf("sets %s: no field schema", got.Sets[i].Field)
				}
				got.Sets[i].Schema = nil
			}
			if !reflect.DeepEqual(got, tt.resource) {
				t.Errorf("resource %+v, want %+v", got, tt.resource)
			}
			for status, r := range o.Responses {
				if status < 300 && status != 204 && r.Schema == nil {
					t.Errorf("response %d has no JSON schema", status)
				}
			}
		})
	}
}

func TestBrokenSpecs(t *testing.T) {
	tests := []struct {
		file string
		want []string // substrings the error must contain, position first
	}{
		{"syntax-error.yaml", []string{"syntax-error.yaml:2:7:", "not valid YAML", "did not find expected ','"}},
		{"empty.yaml", []string{"empty.yaml:", "the file is empty"}},
		{"swagger2.yaml", []string{"swagger2.yaml:", "not an OpenAPI 3 document", `"2.0"`}},
		{"missing-schema.yaml", []string{"missing-schema.yaml:12:24:", "#/components/schemas/Nowhere", "does not exist"}},
		{"unknown-overflow.yaml", []string{"unknown-overflow.yaml:7:13:", "x-opsconform-pagination.overflow", `unknown value "wrap"`, "want reject or clamp"}},
		{"unknown-extension.yaml", []string{"unknown-extension.yaml:4:3:", "unknown extension x-opsconform-paginaton"}},
		{"unknown-field.yaml", []string{"unknown-field.yaml:5:", "x-opsconform-rate-limits", `unknown field "clases"`}},
		{"unknown-placeholder.yaml", []string{"unknown-placeholder.yaml:4:", "x-opsconform-errors.body.error.code", `unknown placeholder "$statuss"`}},
		{"unknown-stability.yaml", []string{"unknown-stability.yaml:7:", "x-stability", `unknown value "experimental"`}},
		{"unknown-class.yaml", []string{"unknown-class.yaml:10:", "x-opsconform-class", `"config" is not a class`}},
		{"bad-window.yaml", []string{"bad-window.yaml:5:", "window", `"a minute" is not a positive duration`}},
		{"wrong-type.yaml", []string{"wrong-type.yaml:5:", "x-opsconform-rate-limits", "`many` into int"}},
		{"undeclared-path-param.yaml", []string{"undeclared-path-param.yaml:6:", "path parameter {thingId} is not declared"}},
		{"unknown-scheme.yaml", []string{"unknown-scheme.yaml:", `security names scheme "nowhere"`}},
		{"digest-lowercase.yaml", []string{"digest-lowercase.yaml:9:", `unknown value "md5"`, "MD5 or SHA-256"}},
		{"clamp-without-max.yaml", []string{"clamp-without-max.yaml:", "overflow is clamp", "no maximum"}},
		{"pagination-no-default.yaml", []string{"pagination-no-default.yaml:12:", "parameter size: has no default"}},
		{"resource-bad-id.yaml", []string{"resource-bad-id.yaml:9:", "x-opsconform-resource.id", `no path or query parameter "id"`}},
		{"search-unknown-collection.yaml", []string{"search-unknown-collection.yaml:", "x-opsconform-search.types.Widget", `no operation keeps a collection "widgets"`}},
		{"search-without-body.yaml", []string{"search-without-body.yaml:7:", "x-opsconform-search", "JSON request body"}},
		{"unknown-path-matching.yaml", []string{"unknown-path-matching.yaml:5:", "x-opsconform-profile.pathMatching", `unknown value "any-case"`, "exact or case-insensitive"}},
		{"resource-bad-filter.yaml", []string{"resource-bad-filter.yaml:9:", "x-opsconform-resource.filters", `no query or path parameter "owner"`}},
		{"resource-bad-parent-collection.yaml", []string{"resource-bad-parent-collection.yaml:", "parentCollection", `no operation keeps a collection "things"`, "have: notes"}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			p, err := LoadFile(filepath.Join("testdata", tt.file))
			if err == nil {
				t.Fatalf("loaded %s as profile %q, want an error", tt.file, p.Name)
			}
			msg := err.Error()
			if !strings.HasPrefix(msg, "specs: testdata/") {
				t.Errorf("error %q does not start with the file", msg)
			}
			for _, w := range tt.want {
				if !strings.Contains(msg, w) {
					t.Errorf("error %q lacks %q", msg, w)
				}
			}
			if strings.Count(msg, "\n") > 0 {
				t.Errorf("error spans lines: %q", msg)
			}
		})
	}
}

func TestEveryBrokenSpecIsInTheTable(t *testing.T) {
	files, _ := filepath.Glob("testdata/*.yaml")
	for _, f := range files {
		if strings.HasPrefix(filepath.Base(f), "valid-") {
			continue
		}
		if _, err := LoadFile(f); err == nil {
			t.Errorf("%s loads without error; broken specs must fail", f)
		}
	}
}

func TestCircularReferenceIsNotFatal(t *testing.T) {
	p, err := LoadFile("testdata/valid-minimal.yaml")
	if err != nil {
		t.Fatalf("a self-referencing schema made loading fail: %v", err)
	}
	if p.Name != "valid-minimal" || p.Auth.Mode != AuthNone || p.Pagination != nil || len(p.Operations) != 1 {
		t.Errorf("profile %q mode %s pagination %v ops %d", p.Name, p.Auth.Mode, p.Pagination, len(p.Operations))
	}
	// A spec without x-opsconform-errors speaks RFC 9457 problem details.
	status, body := p.Errors.Render(NotFound, "")
	if status != 404 || string(body) != `{"detail":"Not Found","status":404,"title":"Not Found","type":"about:blank"}` || p.Errors.ContentType != "application/problem+json" {
		t.Errorf("default error = %d %s %s", status, body, p.Errors.ContentType)
	}
}

func TestLoadFileMissing(t *testing.T) {
	_, err := LoadFile("testdata/no-such-file.yaml")
	if err == nil || !strings.Contains(err.Error(), "no-such-file.yaml") || !os.IsNotExist(unwrapAll(err)) {
		t.Errorf("err = %v, want a not-exist error naming the file", err)
	}
}

func unwrapAll(err error) error {
	for {
		u, ok := err.(interface{ Unwrap() error })
		if !ok {
			return err
		}
		err = u.Unwrap()
	}
}

func BenchmarkLoadProfiles(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := LoadEmbedded(); err != nil {
			b.Fatal(err)
		}
	}
}

func TestErrorsMatch(t *testing.T) {
	p := loadEmbedded(t)["opsmerge"]
	tests := []struct {
		body string
		ok   bool
		says string
	}{
		{`{"error":{"code":"UNAUTHORIZED","message":"nope"}}`, true, ""},
		{`{"error":{"code":"FORBIDDEN","message":"nope"}}`, false, `want "UNAUTHORIZED"`},
		{`{"error":{"code":"UNAUTHORIZED","message":""}}`, false, "non-empty message"},
		{`{"error":{"code":"UNAUTHORIZED"}}`, false, `field "message" is missing`},
		{`{"error":{"code":"UNAUTHORIZED","message":"x"},"extra":1}`, false, `"extra" is not in the documented envelope`},
		{`{"message":"nope"}`, false, `field "error" is missing`},
		{`<html>`, false, "not JSON"},
	}
	for _, tt := range tests {
		err := p.Errors.Match(Unauthenticated, []byte(tt.body))
		if (err == nil) != tt.ok || err != nil && !strings.Contains(err.Error(), tt.says) {
			t.Errorf("Match(%s) = %v, want ok=%v mentioning %q", tt.body, err, tt.ok, tt.says)
		}
	}
}

// TestMixedSchemesLoad: a profile may have schemes of several modes; the
// primary (the first an operation requires, else the first declared) is the
// one the vendor checks read.
func TestMixedSchemesLoad(t *testing.T) {
	p, err := LoadFile("testdata/valid-mixed-modes.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Auth.Schemes) != 2 || p.Auth.Mode != AuthAPIKey || !p.Auth.Mixed() || p.Auth.Primary().Name != "key" {
		t.Errorf("schemes %d mode %s mixed %v", len(p.Auth.Schemes), p.Auth.Mode, p.Auth.Mixed())
	}
}

// TestJSONFastPathModelsTheSame: a JSON description parsed by jsonNode gives
// the same model as libopenapi's own parse (positions included).
func TestJSONFastPathModelsTheSame(t *testing.T) {
	for _, file := range []string{"testdata/corpus/petstore-31.json", "testdata/corpus/recursion-30.json", "testdata/corpus/no-security-31.json"} {
		t.Run(file, func(t *testing.T) {
			slow, err := LoadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			defer func(old int) { jsonFastPath = old }(jsonFastPath)
			jsonFastPath = 0
			fast, err := LoadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			if fast.Document != nil || slow.Document == nil {
				t.Fatalf("the fast path was not taken")
			}
			if len(fast.Operations) != len(slow.Operations) || strings.Join(fast.Warnings, "\n") != strings.Join(slow.Warnings, "\n") {
				t.Errorf("fast: %d operations, warnings %q; slow: %d, %q", len(fast.Operations), fast.Warnings, len(slow.Operations), slow.Warnings)
			}
			for i, op := range slow.Operations {
				f := fast.Operations[i]
				sj, _ := json.Marshal(op.Resource)
				fj, _ := json.Marshal(f.Resource)
				if op.ID != f.ID || op.Path != f.Path || string(sj) != string(fj) {
					t.Errorf("operation %d: %s %s %s vs %s %s %s", i, op.ID, op.Path, sj, f.ID, f.Path, fj)
				}
				if r := op.Success(); r != nil && r.Schema != nil {
					a, _ := SchemaJSON(r.Schema, ToClient, slow.is30())
					b, _ := SchemaJSON(f.Success().Schema, ToClient, fast.is30())
					if string(a) != string(b) {
						t.Errorf("%s: schema %s vs %s", op.ID, a, b)
					}
				}
			}
		})
	}
}

// TestEmbeddedNamesAreTheirFiles: --profile picks embedded descriptions by
// EmbeddedNames before modelling any, so each must be the name its model
// takes (no x-opsconform-profile.name may rename one).
func TestEmbeddedNamesAreTheirFiles(t *testing.T) {
	ps, err := LoadEmbedded()
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, p := range ps {
		got = append(got, p.Name)
	}
	if want := EmbeddedNames(); !reflect.DeepEqual(got, want) {
		t.Fatalf("embedded profiles' names = %v, EmbeddedNames = %v", got, want)
	}
}

func TestLoadEmbeddedNamed(t *testing.T) {
	tests := []struct {
		names   []string
		want    []string
		wantErr string
	}{
		{names: nil, want: EmbeddedNames()},
		{names: []string{"opsmerge"}, want: []string{"opsmerge"}},
		{names: []string{"opsmerge", "ivanti-ism", "opsmerge"}, want: []string{"ivanti-ism", "opsmerge"}},
		{names: []string{"opsmerge", "jira"}, wantErr: `no embedded profile "jira" (embedded: ivanti-ism, mongodb-opsmanager, opmanager, opsmerge)`},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.names, ","), func(t *testing.T) {
			ps, err := LoadEmbedded(tt.names...)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, p := range ps {
				got = append(got, p.Name)
				if !p.Embedded {
					t.Errorf("%s: not marked embedded", p.Name)
				}
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("loaded %v, want %v", got, tt.want)
			}
		})
	}
}
