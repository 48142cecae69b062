package specs

import (
	"reflect"
	"testing"
)

func TestPermits(t *testing.T) {
	profiles := loadEmbedded(t)
	om, mdb, opm, ism := &profiles["opsmerge"].Access, &profiles["mongodb-opsmanager"].Access, &profiles["opmanager"].Access, &profiles["ivanti-ism"].Access
	tests := []struct {
		name     string
		access   *Access
		op       string
		required []string
		grants   []string
		role     string
		want     Decision
	}{
		{"full access key, admin", om, "listAgents", []string{"agents:read"}, []string{"*"}, "admin", Decision{Allowed: true}},
		{"exact scope", om, "listAgents", []string{"agents:read"}, []string{"agents:read"}, "admin", Decision{Allowed: true}},
		{"family wildcard", om, "rebootAgent", []string{"agents:execute"}, []string{"agents:*"}, "technician", Decision{Allowed: true}},
		{"write does not imply read", om, "listAgents", []string{"agents:read"}, []string{"agents:write"}, "admin", Decision{Missing: "agents:read"}},
		{"scopes never widen the role", om, "createClient", []string{"clients:write"}, []string{"*"}, "technician", Decision{Missing: "clients:write", ByRole: true}},
		{"read-only role refuses writes", om, "createAgent", []string{"agents:write"}, []string{"agents:write"}, "readonly", Decision{Missing: "agents:write", ByRole: true}},
		{"unknown role allows nothing", om, "listAgents", []string{"agents:read"}, []string{"*"}, "intern", Decision{Missing: "agents:read", ByRole: true}},
		{"no scopes needed", om, "getAuthMe", nil, []string{"agents:read"}, "readonly", Decision{Allowed: true}},
		{"specific API grant", opm, "listDevicesV2", []string{"inventory:read"}, []string{"operation:listDevicesV2"}, "Administrator", Decision{Allowed: true}},
		{"specific API grant is for one API", opm, "listDevicesV1", []string{"inventory:read"}, []string{"operation:listDevicesV2"}, "Administrator", Decision{Missing: "inventory:read"}},
		{"specific API still bounded by role", opm, "acknowledgeAlarm", []string{"alarms:write"}, []string{"operation:acknowledgeAlarm"}, "ReadOnly", Decision{Missing: "alarms:write", ByRole: true}},
		{"bound owner implies member", mdb, "listOrgApiKeys", []string{"ORG_MEMBER@aaa"}, []string{"ORG_OWNER@aaa"}, "", Decision{Allowed: true}},
		{"implication is transitive", mdb, "getOrg", []string{"ORG_READ_ONLY@aaa"}, []string{"ORG_OWNER@aaa"}, "", Decision{Allowed: true}},
		{"binding does not cross entities", mdb, "getOrg", []string{"ORG_READ_ONLY@bbb"}, []string{"ORG_OWNER@aaa"}, "", Decision{Missing: "ORG_READ_ONLY@bbb"}},
		{"member does not imply owner", mdb, "createOrgApiKey", []string{"ORG_OWNER@aaa"}, []string{"ORG_MEMBER@aaa"}, "", Decision{Missing: "ORG_OWNER@aaa"}},
		{"ivanti role decides", ism, "createChange", []string{"changes:write"}, []string{"*"}, "ServiceDeskAnalyst", Decision{Missing: "changes:write", ByRole: true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.access.Permits(tt.op, tt.required, tt.grants, tt.role); got != tt.want {
				t.Errorf("Permits = %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestResolveAndExpand(t *testing.T) {
	if got := Resolve("ORG_OWNER@{orgId}", map[string]string{"orgId": "5980"}); got != "ORG_OWNER@5980" {
		t.Errorf("Resolve = %q", got)
	}
	a := &Access{Implies: map[string][]string{"A": {"B"}, "B": {"C", "A"}}}
	if got := a.Expand([]string{"A@x"}); !reflect.DeepEqual(got, []string{"A@x", "B@x", "C@x"}) {
		t.Errorf("Expand = %v (cycles must terminate, bindings carry)", got)
	}
}
