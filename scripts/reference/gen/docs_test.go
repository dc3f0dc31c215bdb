package main

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestCitedDocsAreInTheRepo checks that every page docs/*.md that a source
// file, script or page of the repository cites exists, and that the
// reference cites the specification it was written from (docs/model.md).
func TestCitedDocsAreInTheRepo(t *testing.T) {
	root := filepath.Join("..", "..", "..")
	cite := regexp.MustCompile(`docs/[A-Za-z0-9_-]+\.md`)
	cited := map[string][]string{}
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if name := d.Name(); name == ".git" || name == "testdata" || name == "node_modules" {
				return filepath.SkipDir
			}
			return nil
		}
		switch filepath.Ext(path) {
		case ".go", ".py", ".md", ".sh":
		default:
			return nil
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for _, m := range cite.FindAllString(string(b), -1) {
			cited[m] = append(cited[m], path)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for doc, by := range cited {
		if _, err := os.Stat(filepath.Join(root, doc)); err != nil {
			t.Errorf("%s is cited by %s but is not in the repository: %v", doc, strings.Join(by, ", "), err)
		}
	}
	ref, err := os.ReadFile(filepath.Join(root, "scripts", "reference", "reference.py"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(ref), "docs/model.md") {
		t.Error("scripts/reference/reference.py does not cite docs/model.md, the specification it was written from")
	}
}
