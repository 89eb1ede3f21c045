// The features and feature gates a label names: test/e2e/feature/feature.go and pkg/features.

package main

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"strconv"
	"strings"
)

// gate is a feature gate's spec at the minor: its maturity and whether it is on by default.
type gate struct {
	preRelease string // "Alpha", "Beta" or "" (GA)
	byDefault  bool
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
