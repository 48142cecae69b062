package suites

import (
	"io"
	"net/http"
	"strings"
	"testing"
)

// TestRateLimited: a patient client waits on a 429, and on MongoDB's
// envelope=true 429, which comes under HTTP 200 with Retry-After and the
// status in the body; any other answer is final, its body read whole.
func TestRateLimited(t *testing.T) {
	big := `{"status":429,"pad":"` + strings.Repeat("x", envelopePeek) + `"}`
	tests := []struct {
		name       string
		status     int
		retryAfter string
		body       string
		want       bool
	}{
		{"a 429", 429, "30", `{"error":429}`, true},
		{"a 429 without Retry-After", 429, "", `{}`, true},
		{"an enveloped 429", 200, "12", `{"status":429,"content":{"error":429,"errorCode":"RATE_LIMITED"}}`, true},
		{"an enveloped 200 with Retry-After", 200, "12", `{"status":200,"content":{"id":"1"}}`, false},
		{"a 200 without Retry-After", 200, "", `{"status":429}`, false},
		{"a 200 with Retry-After, not JSON", 200, "5", `<html>busy</html>`, false},
		{"an envelope too big to be an error", 200, "5", big, false},
		{"a 503 with Retry-After", 503, "5", `{"status":429}`, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp := &http.Response{StatusCode: tt.status, Header: http.Header{}, Body: io.NopCloser(strings.NewReader(tt.body))}
			if tt.retryAfter != "" {
				resp.Header.Set("Retry-After", tt.retryAfter)
			}
			if got := rateLimited(resp); got != tt.want {
				t.Errorf("rateLimited = %v, want %v", got, tt.want)
			}
			body, err := io.ReadAll(resp.Body)
			if err != nil || string(body) != tt.body {
				t.Errorf("the body after: %d bytes, %v; want the %d sent", len(body), err, len(tt.body))
			}
			if err := resp.Body.Close(); err != nil {
				t.Errorf("Close: %v", err)
			}
		})
	}
}
