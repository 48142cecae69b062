// Package junitxsd validates JUnit reports in tests against the schema CI
// systems read, ../shared/junit.xsd beside the checkout. It is no part of
// the product.
package junitxsd

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// Path finds junit.xsd in "shared" beside the checkout: beside this
// module's root, or, in a git worktree, beside the main checkout.
func Path() (string, bool) {
	dir, err := os.Getwd()
	if err != nil {
		return "", false
	}
	root := dir
	for {
		if _, err := os.Stat(filepath.Join(root, "go.mod")); err == nil {
			break
		}
		parent := filepath.Dir(root)
		if parent == root {
			return "", false
		}
		root = parent
	}
	candidates := []string{filepath.Join(root, "..", "shared", "junit.xsd")}
	if out, err := exec.Command("git", "-C", root, "rev-parse", "--path-format=absolute", "--git-common-dir").Output(); err == nil {
		main := filepath.Dir(strings.TrimSpace(string(out))) // the main checkout holds the common .git
		candidates = append(candidates, filepath.Join(main, "..", "shared", "junit.xsd"))
	}
	for _, c := range candidates {
		if _, err := os.Stat(c); err == nil {
			return c, true
		}
	}
	return "", false
}

// Validate checks the JUnit file against the schema with xmllint. Without
// the schema beside the checkout it says so in the log; without xmllint it
// fails under CI (which installs it) and skips elsewhere.
func Validate(t testing.TB, file string) {
	t.Helper()
	xsd, ok := Path()
	if !ok {
		t.Logf("no shared/junit.xsd beside the checkout; schema validation skipped")
		return
	}
	xmllint, err := exec.LookPath("xmllint")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("xmllint is missing; .ci/run installs libxml2-utils")
		}
		t.Skip("xmllint is not installed (Debian: libxml2-utils)")
	}
	if out, err := exec.Command(xmllint, "--noout", "--schema", xsd, file).CombinedOutput(); err != nil {
		data, _ := os.ReadFile(file)
		t.Errorf("xmllint: %v\n%s\n%s", err, out, data)
	}
}
