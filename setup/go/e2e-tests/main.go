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
	"strconv"
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

type gate struct {
	preRelease string // "Alpha", "Beta" or "" (GA)
	byDefault  bool
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

// describe builds a container's or test's text and labels as registerInSuite does for the
// framework's wrappers, or as ginkgo does for its own (the first argument is the text).
func (l *lister) describe(call *ast.CallExpr, pkg, name string) (node, error) {
	var n node
	addLabel := func(label string) { n.labels = append(n.labels, label); n.text += sep(n.text) + "[" + label + "]" }
	if name == "SIGDescribe" {
		addLabel("sig-network")
	}
	for i, arg := range call.Args {
		if _, ok := arg.(*ast.FuncLit); ok {
			continue
		}
		if s, ok := l.constString(arg); ok {
			n.text += sep(n.text) + s
			continue
		}
		if pkg == "ginkgo" && i > 0 {
			continue // ginkgo decorators (Label, Serial, Offset) are not in the text
		}
		labels, err := l.labels(arg)
		if err != nil {
			return n, fmt.Errorf("%s: %v", l.fset.Position(arg.Pos()), err)
		}
		for _, label := range labels {
			addLabel(label)
		}
	}
	if name == "ConformanceIt" {
		addLabel("Conformance")
	}
	return n, nil
}

func sep(text string) string {
	if text == "" {
		return ""
	}
	return " "
}

// labels resolves one framework label argument to the texts it adds to the title.
func (l *lister) labels(arg ast.Expr) ([]string, error) {
	if sel, ok := arg.(*ast.SelectorExpr); ok {
		if id, ok := sel.X.(*ast.Ident); ok && id.Name == "feature" {
			if name, ok := l.features[sel.Sel.Name]; ok {
				return []string{"Feature:" + name}, nil
			}
		}
		return nil, fmt.Errorf("unknown label %s", render(arg))
	}
	call, ok := arg.(*ast.CallExpr)
	if !ok {
		return nil, fmt.Errorf("unknown argument %s", render(arg))
	}
	_, name := callee(call)
	switch name {
	case "WithSerial", "WithSlow", "WithDisruptive", "WithConformance", "WithNodeConformance", "WithFlaky":
		return []string{strings.TrimPrefix(name, "With")}, nil
	case "WithLabel":
		if s, ok := l.constString(call.Args[0]); ok {
			return []string{s}, nil
		}
	case "WithFeatureGate":
		if sel, ok := call.Args[0].(*ast.SelectorExpr); ok {
			spec, ok := l.gates[sel.Sel.Name]
			if !ok {
				return nil, fmt.Errorf("feature gate %s not in kube_features.go", sel.Sel.Name)
			}
			out := []string{"FeatureGate:" + sel.Sel.Name}
			if spec.preRelease != "" {
				out = append(out, spec.preRelease)
			}
			if !spec.byDefault {
				out = append(out, "Feature:OffByDefault")
			}
			return out, nil
		}
	}
	return nil, fmt.Errorf("unknown label %s", render(arg))
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

// define records `x := "..."`, `var x = "..."` and `const x = "..."` (a title built from them).
func (l *lister) define(n ast.Node) {
	switch n := n.(type) {
	case *ast.AssignStmt:
		for i, lhs := range n.Lhs {
			if id, ok := lhs.(*ast.Ident); ok && i < len(n.Rhs) {
				if s, ok := l.constString(n.Rhs[i]); ok {
					l.strings[id.Name] = s
				}
			}
		}
	case *ast.DeclStmt:
		l.define(n.Decl)
	case *ast.GenDecl:
		for _, spec := range n.Specs {
			if v, ok := spec.(*ast.ValueSpec); ok {
				for i, id := range v.Names {
					if i < len(v.Values) {
						if s, ok := l.constString(v.Values[i]); ok {
							l.strings[id.Name] = s
						}
					}
				}
			}
		}
	}
}

// constString evaluates a string literal, a string constant or variable in scope (none when l is
// nil), or a sum of them.
func (l *lister) constString(e ast.Expr) (string, bool) {
	switch e := e.(type) {
	case *ast.BasicLit:
		if e.Kind == token.STRING {
			s, err := strconv.Unquote(e.Value)
			return s, err == nil
		}
	case *ast.Ident:
		if l != nil {
			s, ok := l.strings[e.Name]
			return s, ok
		}
	case *ast.BinaryExpr:
		if e.Op == token.ADD {
			a, ok1 := l.constString(e.X)
			b, ok2 := l.constString(e.Y)
			return a + b, ok1 && ok2
		}
	case *ast.ParenExpr:
		return l.constString(e.X)
	}
	return "", false
}

// constString evaluates literals alone (files whose other strings do not matter).
func constString(e ast.Expr) (string, bool) { return (*lister)(nil).constString(e) }

func render(e ast.Expr) string {
	var b strings.Builder
	ast.Inspect(e, func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.Ident:
			b.WriteString(n.Name + ".")
		case *ast.BasicLit:
			b.WriteString(n.Value)
		}
		return true
	})
	return strings.TrimSuffix(b.String(), ".")
}

// readFeatures maps each `X = framework.WithFeature(framework.ValidFeatures.Add("X"))` to its name.
func readFeatures(fset *token.FileSet, path string) (map[string]string, error) {
	file, err := parser.ParseFile(fset, path, nil, 0)
	if err != nil {
		return nil, err
	}
	out := map[string]string{}
	ast.Inspect(file, func(n ast.Node) bool {
		spec, ok := n.(*ast.ValueSpec)
		if !ok || len(spec.Names) != 1 || len(spec.Values) != 1 {
			return true
		}
		ast.Inspect(spec.Values[0], func(n ast.Node) bool {
			if call, ok := n.(*ast.CallExpr); ok {
				if _, name := callee(call); name == "Add" && len(call.Args) == 1 {
					if s, ok := constString(call.Args[0]); ok {
						out[spec.Names[0].Name] = s
					}
				}
			}
			return true
		})
		return true
	})
	return out, nil
}

// readGates reads each feature gate's versioned specs from kube_features.go and keeps the
// newest at or before the minor, as the e2e binary of that version sees its defaults.
func readGates(fset *token.FileSet, path, minor string) (map[string]gate, error) {
	file, err := parser.ParseFile(fset, path, nil, 0)
	if err != nil {
		return nil, err
	}
	want, err := minorNumber(minor)
	if err != nil {
		return nil, err
	}
	out := map[string]gate{}
	ast.Inspect(file, func(n ast.Node) bool {
		kv, ok := n.(*ast.KeyValueExpr)
		if !ok {
			return true
		}
		key, ok := kv.Key.(*ast.Ident)
		list, ok2 := kv.Value.(*ast.CompositeLit)
		if !ok || !ok2 {
			return true
		}
		best := -1
		for _, elt := range list.Elts {
			spec, ok := elt.(*ast.CompositeLit)
			if !ok {
				continue
			}
			var g gate
			at := -1
			for _, f := range spec.Elts {
				field, ok := f.(*ast.KeyValueExpr)
				if !ok {
					continue
				}
				switch field.Key.(*ast.Ident).Name {
				case "Version":
					if call, ok := field.Value.(*ast.CallExpr); ok && len(call.Args) == 1 {
						if s, ok := constString(call.Args[0]); ok {
							at, _ = minorNumber(s)
						}
					}
				case "Default":
					g.byDefault = render(field.Value) == "true"
				case "PreRelease":
					level := strings.TrimPrefix(render(field.Value), "featuregate.")
					if level != "GA" && level != "Deprecated" {
						g.preRelease = level
					}
				}
			}
			if at >= 0 && at <= want && at > best {
				best = at
				out[key.Name] = g
			}
		}
		return false
	})
	return out, nil
}

// minorNumber turns "1.34" into 34.
func minorNumber(v string) (int, error) {
	parts := strings.Split(strings.TrimPrefix(v, "v"), ".")
	if len(parts) < 2 || parts[0] != "1" {
		return 0, fmt.Errorf("not a Kubernetes minor: %q", v)
	}
	return strconv.Atoi(parts[1])
}
