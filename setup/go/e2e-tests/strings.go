// String constants and variables a title is built from.

package main

import (
	"go/ast"
	"go/token"
	"strconv"
	"strings"
)

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
