package specs

import (
	"testing"
	"time"
)

func TestShortDuration(t *testing.T) {
	tests := []struct {
		d    time.Duration
		want string
	}{
		{time.Minute, "1m"}, {10 * time.Second, "10s"}, {90 * time.Second, "90s"}, {2 * time.Hour, "2h"},
		{time.Second, "1s"}, {1500 * time.Millisecond, "1.5s"}, {61 * time.Minute, "61m"},
	}
	for _, tt := range tests {
		if got := shortDuration(tt.d); got != tt.want {
			t.Errorf("shortDuration(%v) = %q, want %q", tt.d, got, tt.want)
		}
	}
}
