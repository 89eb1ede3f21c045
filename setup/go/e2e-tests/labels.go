// How the e2e framework turns a container or test call into its text and labels.

package main

import (
	"fmt"
	"go/ast"
	"strings"
)

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
