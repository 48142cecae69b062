package specs

import "testing"

func TestSameTenant(t *testing.T) {
	tests := []struct {
		host, tenant string
		want         bool
	}{
		{"tenant.example.com", "tenant.example.com", true},
		{"Tenant.Example.COM", "tenant.example.com", true},
		{"other.example.com", "tenant.example.com", false},
		{"127.0.0.1", "localhost", true},
		{"[::1]", "127.0.0.1", true},
		{"localhost.", "::1", true},
		{"127.0.0.1", "tenant.example.com", false},
		{"10.0.0.1", "127.0.0.1", false},
		{"", "", true},
	}
	for _, tt := range tests {
		if got := SameTenant(tt.host, tt.tenant); got != tt.want {
			t.Errorf("SameTenant(%q, %q) = %v, want %v", tt.host, tt.tenant, got, tt.want)
		}
	}
}
