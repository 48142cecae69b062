package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// The other mock servers the page is served by, pinned.
const (
	prismPackage    = "@stoplight/prism-cli"
	prismVersion    = "5.14.2"
	wiremockPackage = "wiremock" // the npm package bundles WireMock's standalone jar
	wiremockVersion = "3.13.2"
)

// nodeTools installs (once, into cache/node) and locates Prism and WireMock.
// Each result is a path to run, or why the tool cannot run here.
type nodeTools struct {
	cache string

	prism, wiremockJar string
	prismWhy, wmWhy    string
}

func (n *nodeTools) dir() string { return filepath.Join(n.cache, "node") }

// installedVersion is the version of an npm package under dir, "" when absent.
func installedVersion(dir, pkg string) string {
	b, err := os.ReadFile(filepath.Join(dir, "node_modules", pkg, "package.json"))
	if err != nil {
		return ""
	}
	var m struct{ Version string }
	if json.Unmarshal(b, &m) != nil {
		return ""
	}
	return m.Version
}

// locate installs what is missing with npm and finds Prism's entry point
// and WireMock's jar. wantPrism and wantWireMock say which are asked for.
func (n *nodeTools) locate(wantPrism, wantWireMock bool) {
	var need []string
	if wantPrism && installedVersion(n.dir(), prismPackage) != prismVersion {
		need = append(need, prismPackage+"@"+prismVersion)
	}
	if wantWireMock && installedVersion(n.dir(), wiremockPackage) != wiremockVersion {
		need = append(need, wiremockPackage+"@"+wiremockVersion)
	}
	installErr := ""
	if len(need) > 0 {
		if _, err := exec.LookPath("npm"); err != nil {
			installErr = "npm is not installed (Node.js is needed to install " + strings.Join(need, " and ") + ")"
		} else if err := os.MkdirAll(n.dir(), 0o755); err != nil {
			installErr = err.Error()
		} else {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
			args := append([]string{"install", "--prefix", n.dir(), "--save-exact", "--no-audit", "--no-fund"}, need...)
			out, err := exec.CommandContext(ctx, "npm", args...).CombinedOutput()
			cancel()
			if err != nil {
				installErr = fmt.Sprintf("npm %s failed: %v: %s", strings.Join(args, " "), err, lastLines(string(out), 5))
			}
		}
	}
	if wantPrism {
		switch {
		case installedVersion(n.dir(), prismPackage) != prismVersion:
			n.prismWhy = orText(installErr, prismPackage+"@"+prismVersion+" is not installed")
		default:
			if _, err := exec.LookPath("node"); err != nil {
				n.prismWhy = "node is not installed"
			} else {
				n.prism = filepath.Join(n.dir(), "node_modules", prismPackage, "dist", "index.js")
			}
		}
	}
	if wantWireMock {
		jar := filepath.Join(n.dir(), "node_modules", wiremockPackage, "build", "wiremock-standalone-"+wiremockVersion+".jar")
		switch {
		case installedVersion(n.dir(), wiremockPackage) != wiremockVersion:
			n.wmWhy = orText(installErr, wiremockPackage+"@"+wiremockVersion+" is not installed")
		default:
			if _, err := os.Stat(jar); err != nil {
				n.wmWhy = "the npm package has no jar: " + err.Error()
			} else if _, err := exec.LookPath("java"); err != nil {
				n.wmWhy = "java is not installed (WireMock's jar needs a JRE 11 or later)"
			} else {
				n.wiremockJar = jar
			}
		}
	}
}

func orText(s, def string) string {
	if s != "" {
		return s
	}
	return def
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, " / ")
}

// prismSpec is an OpenAPI description of the one page, for Prism: the
// path, its two query parameters, Bearer security (Prism checks that a
// credential is sent), and a 200 whose example is the page and whose
// headers are the mock's.
func prismSpec(p *capturedPage) ([]byte, error) {
	var example any
	if err := json.Unmarshal(p.body, &example); err != nil {
		return nil, fmt.Errorf("the %s page is not JSON: %w", p.Name, err)
	}
	headers := map[string]any{}
	for k, v := range p.Header {
		if strings.EqualFold(k, "Content-Type") || len(v) == 0 {
			continue
		}
		headers[k] = map[string]any{"schema": map[string]any{"type": "string"}, "example": v[0]}
	}
	intParam := func(name string) map[string]any {
		return map[string]any{"name": name, "in": "query", "schema": map[string]any{"type": "integer", "minimum": 1}}
	}
	doc := map[string]any{
		"openapi": "3.1.0",
		"info":    map[string]any{"title": "opsconform-load: one page of " + p.Name, "version": "1"},
		"components": map[string]any{"securitySchemes": map[string]any{
			"bearer": map[string]any{"type": "http", "scheme": "bearer"},
		}},
		"security": []any{map[string]any{"bearer": []any{}}},
		"paths": map[string]any{p.Path: map[string]any{"get": map[string]any{
			"operationId": "page",
			"parameters":  []any{intParam("page"), intParam("per_page")},
			"responses": map[string]any{
				"200": map[string]any{
					"description": "the page",
					"headers":     headers,
					"content":     map[string]any{"application/json": map[string]any{"example": example}},
				},
				"401": map[string]any{"description": "no credentials"},
			},
		}}},
	}
	return json.MarshalIndent(doc, "", "  ")
}

// wiremockMapping is a WireMock stub answering the page's exact request
// (path, query and Authorization header) with its body and headers.
func wiremockMapping(p *capturedPage, query map[string]string, authorization string) ([]byte, error) {
	qp := map[string]any{}
	for k, v := range query {
		qp[k] = map[string]any{"equalTo": v}
	}
	headers := map[string]any{}
	for k, v := range p.Header {
		headers[k] = v
	}
	m := map[string]any{
		"request": map[string]any{
			"method":          "GET",
			"urlPath":         p.Path,
			"queryParameters": qp,
			"headers":         map[string]any{"Authorization": map[string]any{"equalTo": authorization}},
		},
		"response": map[string]any{"status": 200, "headers": headers, "body": string(p.body)},
	}
	return json.MarshalIndent(m, "", "  ")
}
