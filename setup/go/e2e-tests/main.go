// e2e-tests lists upstream's ginkgo tests in test/e2e/network of a k8s.io/kubernetes source tree
// (the Go module cache's copy), as the e2e framework names them: one JSON object per It,
// ConformanceIt, framework.It or f.It, with its file, line, full title and labels. It reads the
// source with go/ast, so titles made of several strings and labels passed as arguments come out
// as the framework joins them (test/e2e/framework/ginkgowrapper.go, registerInSuite).
//
// Usage: e2e-tests K8S_SOURCE_DIR MINOR (e.g. 1.34) > tests.json
package main

import (
	"encoding/json"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
)

// Test is one upstream test as the framework registers it.
type Test struct {
	File        string   `json:"file"`
	Line        int      `json:"line"`
	Title       string   `json:"title"`
	Text        string   `json:"text"`
	Labels      []string `json:"labels"`
	Conformance bool     `json:"conformance"`
}

// node is one container (Describe, Context) or test (It) text with its labels.
type node struct {
	text   string
	labels []string
}

type lister struct {
	fset     *token.FileSet
	features map[string]string // feature.X -> "X"
	gates    map[string]gate   // features.X -> its spec at the minor
	tests    []Test
	err      error
	strings  map[string]string // string constants and variables in scope: package level, then each enclosing body's
}

var containers = map[string]bool{"SIGDescribe": true, "Describe": true, "Context": true, "When": true}
var tests = map[string]bool{"It": true, "ConformanceIt": true}

func main() {
	if len(os.Args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: e2e-tests K8S_SOURCE_DIR MINOR")
		os.Exit(2)
	}
	root, minor := os.Args[1], os.Args[2]
	l := &lister{fset: token.NewFileSet()}
	var err error
	if l.features, err = readFeatures(l.fset, filepath.Join(root, "test/e2e/feature/feature.go")); err != nil {
		fail(err)
	}
	if l.gates, err = readGates(l.fset, filepath.Join(root, "pkg/features/kube_features.go"), minor); err != nil {
		fail(err)
	}
	files, _ := filepath.Glob(filepath.Join(root, "test/e2e/network/*.go"))
	sort.Strings(files)
	if len(files) == 0 {
		fail(fmt.Errorf("no Go files in %s/test/e2e/network", root))
	}
	parsed := make([]*ast.File, len(files))
	l.strings = map[string]string{}
	for i, path := range files {
		if parsed[i], err = parser.ParseFile(l.fset, path, nil, 0); err != nil {
			fail(err)
		}
		for _, decl := range parsed[i].Decls {
			l.define(decl)
		}
	}
	for _, file := range parsed {
		l.walk(file, nil)
		if l.err != nil {
			fail(l.err)
		}
	}
	out, _ := json.MarshalIndent(l.tests, "", "  ")
	fmt.Println(string(out))
}

func fail(err error) {
	fmt.Fprintf(os.Stderr, "e2e-tests: %v\n", err)
	os.Exit(1)
}

// walk visits n; a container call walks its body with its text pushed, a test call is recorded.
func (l *lister) walk(n ast.Node, stack []node) {
	ast.Inspect(n, func(n ast.Node) bool {
		call, ok := n.(*ast.CallExpr)
		if !ok || l.err != nil {
			return l.err == nil
		}
		pkg, name := callee(call)
		switch {
		case containers[name] && (pkg == "common" || pkg == "ginkgo" || pkg == "framework" || pkg == "f"):
			c, err := l.describe(call, pkg, name)
			if err != nil {
				l.err = err
				return false
			}
			for _, arg := range call.Args {
				if fn, ok := arg.(*ast.FuncLit); ok {
					outer := l.strings
					l.strings = maps.Clone(outer)
					for _, stmt := range fn.Body.List {
						l.define(stmt)
					}
					l.walk(fn.Body, append(append([]node{}, stack...), c))
					l.strings = outer
				}
			}
			return false
		case tests[name] && (pkg == "ginkgo" || pkg == "framework" || pkg == "f"):
			t, err := l.describe(call, pkg, name)
			if err != nil {
				l.err = err
				return false
			}
			if len(stack) == 0 {
				l.err = fmt.Errorf("%s: %s.%s outside any Describe", l.fset.Position(call.Pos()), pkg, name)
				return false
			}
			l.record(call, append(append([]node{}, stack...), t))
			return false
		}
		return true
	})
}

func callee(call *ast.CallExpr) (pkg, name string) {
	sel, ok := call.Fun.(*ast.SelectorExpr)
	if !ok {
		return "", ""
	}
	if id, ok := sel.X.(*ast.Ident); ok {
		return id.Name, sel.Sel.Name
	}
	return "", sel.Sel.Name
}

var tagRe = regexp.MustCompile(`\[([^\]]+)\]`)

func (l *lister) record(call *ast.CallExpr, path []node) {
	pos := l.fset.Position(call.Pos())
	texts := make([]string, len(path))
	for i, n := range path {
		texts[i] = n.text
	}
	title := strings.Join(texts, " ")
	// Labels: the framework's, and the bracketed tags still written in plain text ([LinuxOnly]).
	var labels []string
	seen := map[string]bool{}
	for _, m := range tagRe.FindAllStringSubmatch(title, -1) {
		if !seen[m[1]] {
			seen[m[1]] = true
			labels = append(labels, m[1])
		}
	}
	l.tests = append(l.tests, Test{
		File:        filepath.Base(pos.Filename),
		Line:        pos.Line,
		Title:       title,
		Text:        path[len(path)-1].text,
		Labels:      labels,
		Conformance: seen["Conformance"],
	})
}
