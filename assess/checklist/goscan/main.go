// goscan is the static half of `assess checklist` for Go services: it reads a service's source
// and prints, as JSON on stdout, its HTTP handlers (with the context timeout each one derives,
// if any) and its database/sql pool settings.
//
//	goscan DIR
//
// Standard library only (go/parser, go/ast, go/types), Go 1.19, GOPATH mode: the checker
// builds it with `go build` on first use. Imports outside the standard library are not
// resolved; the type checker carries on without them, so constants such as 3*time.Second
// still get their values.
//
// A handler is a function (declared, a method such as ServeHTTP, or a closure) whose
// parameters are (http.ResponseWriter, *http.Request). It is bounded when its body, or a
// function of the same package it calls (directly or further down), calls
// context.WithTimeout or context.WithDeadline, or when http.TimeoutHandler wraps it (or wraps
// the mux it is registered on).
package main

import (
	"encoding/json"
	"fmt"
	"go/ast"
	"go/constant"
	"go/importer"
	"go/parser"
	"go/printer"
	"go/token"
	"go/types"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"
)

type Bound struct {
	Via        string `json:"via"`                   // context.WithTimeout, context.WithDeadline, http.TimeoutHandler
	At         string `json:"at"`                    // file:line of the call
	In         string `json:"in,omitempty"`          // the helper that calls it, when not the handler itself
	Duration   string `json:"duration,omitempty"`    // "3s" when constant
	DurationNs int64  `json:"duration_ns,omitempty"` // 0 when not constant
	Expr       string `json:"expr"`                  // the duration (or deadline) argument as written
	Parent     string `json:"parent,omitempty"`      // the parent context as written
}

type Handler struct {
	Name     string   `json:"name"`
	At       string   `json:"at"`
	Patterns []string `json:"patterns,omitempty"`
	Bound    *Bound   `json:"bound"`
	// Middleware: it calls some handler's ServeHTTP. Its own bound, if any, bounds every
	// handler; without one, the handlers it delegates to are judged on their own.
	Delegates bool `json:"delegates,omitempty"`
}

type Setting struct {
	Call  string `json:"call"`
	At    string `json:"at"`
	Expr  string `json:"expr"`
	Value *int64 `json:"value"` // nil when not constant
}

type Result struct {
	Files    int       `json:"files"`
	Handlers []Handler `json:"handlers"`
	DBOpens  []string  `json:"db_opens"` // file:line of each sql.Open / sql.OpenDB
	Settings []Setting `json:"db_settings"`
	Errors   []string  `json:"errors"` // files that do not parse
}

// A function body the scan knows: a declared function (by name) or a closure.
type fn struct {
	name      string
	pos       token.Pos
	body      *ast.BlockStmt
	file      *ast.File
	calls     []string // names of the package's functions this body calls
	delegates bool     // calls X.ServeHTTP
	own       *Bound   // a WithTimeout/WithDeadline in the body itself
}

type scanner struct {
	fset    *token.FileSet
	root    string
	info    *types.Info
	decls   map[string][]*fn // "name" or "Type.name": methods are also indexed by bare name
	funcs   []*fn            // every body that is a handler
	byBody  map[*ast.BlockStmt]*fn
	res     *Result
	wrapped map[string]Bound // handler name -> TimeoutHandler that wraps it; "*" wraps all
	pats    map[string][]string
	memo    map[*fn]*Bound
	busy    map[*fn]bool
}

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: goscan DIR")
		os.Exit(2)
	}
	res, err := scan(os.Args[1])
	if err != nil {
		fmt.Fprintln(os.Stderr, "goscan:", err)
		os.Exit(1)
	}
	enc := json.NewEncoder(os.Stdout)
	enc.SetIndent("", " ")
	if err := enc.Encode(res); err != nil {
		fmt.Fprintln(os.Stderr, "goscan:", err)
		os.Exit(1)
	}
}

func scan(root string) (*Result, error) {
	st, err := os.Stat(root)
	if err != nil {
		return nil, err
	}
	if !st.IsDir() {
		return nil, fmt.Errorf("%s is not a directory", root)
	}
	res := &Result{Handlers: []Handler{}, DBOpens: []string{}, Settings: []Setting{}, Errors: []string{}}
	// One package per directory, as go build sees them.
	dirs := map[string][]string{}
	err = filepath.Walk(root, func(path string, fi os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		name := fi.Name()
		if fi.IsDir() {
			if path != root && (name == "vendor" || name == "testdata" || strings.HasPrefix(name, ".") || strings.HasPrefix(name, "_")) {
				return filepath.SkipDir
			}
			return nil
		}
		if strings.HasSuffix(name, ".go") && !strings.HasSuffix(name, "_test.go") {
			dirs[filepath.Dir(path)] = append(dirs[filepath.Dir(path)], path)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	keys := make([]string, 0, len(dirs))
	for d := range dirs {
		keys = append(keys, d)
	}
	sort.Strings(keys)
	for _, d := range keys {
		scanPackage(root, dirs[d], res)
	}
	return res, nil
}

func scanPackage(root string, paths []string, res *Result) {
	fset := token.NewFileSet()
	var files []*ast.File
	for _, p := range paths {
		f, err := parser.ParseFile(fset, p, nil, parser.SkipObjectResolution)
		if err != nil {
			res.Errors = append(res.Errors, err.Error())
			continue
		}
		files = append(files, f)
	}
	res.Files += len(files)
	if len(files) == 0 {
		return
	}
	info := &types.Info{Types: map[ast.Expr]types.TypeAndValue{}}
	conf := types.Config{Importer: importer.Default(), Error: func(error) {}}
	conf.Check(files[0].Name.Name, fset, files, info) // errors (unresolved imports) are expected
	s := &scanner{fset: fset, root: root, info: info, decls: map[string][]*fn{}, byBody: map[*ast.BlockStmt]*fn{},
		res: res, wrapped: map[string]Bound{}, pats: map[string][]string{}, memo: map[*fn]*Bound{}, busy: map[*fn]bool{}}
	for _, f := range files {
		s.collect(f)
	}
	for _, f := range files {
		s.registrations(f)
		s.database(f)
	}
	for _, h := range s.funcs {
		if b := s.bound(h); h.delegates && b != nil {
			via := *b
			via.Via = "middleware " + h.name + ": " + b.Via
			s.wrapped["*"] = via
		}
	}
	for _, h := range s.funcs {
		out := Handler{Name: h.name, At: s.at(h.pos), Patterns: s.pats[h.name], Bound: s.bound(h), Delegates: h.delegates}
		if out.Bound == nil {
			if b, ok := s.wrapped[h.name]; ok {
				out.Bound = &b
			} else if b, ok := s.wrapped["*"]; ok {
				out.Bound = &b
			}
		}
		res.Handlers = append(res.Handlers, out)
	}
}

func (s *scanner) at(p token.Pos) string {
	pos := s.fset.Position(p)
	rel, err := filepath.Rel(s.root, pos.Filename)
	if err != nil {
		rel = pos.Filename
	}
	return fmt.Sprintf("%s:%d", rel, pos.Line)
}

func (s *scanner) text(e ast.Expr) string {
	var b strings.Builder
	printer.Fprint(&b, s.fset, e)
	return b.String()
}

// importName is the name file f uses for the package at path ("" if not imported).
func importName(f *ast.File, path string) string {
	for _, imp := range f.Imports {
		if strings.Trim(imp.Path.Value, `"`) != path {
			continue
		}
		if imp.Name != nil {
			return imp.Name.Name
		}
		return path[strings.LastIndex(path, "/")+1:]
	}
	return ""
}

// isPkgSel reports whether e is pkg.name with pkg the file's name for importPath.
func isPkgSel(f *ast.File, e ast.Expr, importPath, name string) bool {
	sel, ok := e.(*ast.SelectorExpr)
	if !ok || (name != "" && sel.Sel.Name != name) {
		return false
	}
	id, ok := sel.X.(*ast.Ident)
	return ok && id.Name == importName(f, importPath) && id.Name != ""
}

func isHandlerType(f *ast.File, t *ast.FuncType) bool {
	var types []ast.Expr
	for _, p := range t.Params.List {
		n := len(p.Names)
		if n == 0 {
			n = 1
		}
		for i := 0; i < n; i++ {
			types = append(types, p.Type)
		}
	}
	if len(types) != 2 || !isPkgSel(f, types[0], "net/http", "ResponseWriter") {
		return false
	}
	star, ok := types[1].(*ast.StarExpr)
	return ok && isPkgSel(f, star.X, "net/http", "Request")
}

func recvName(d *ast.FuncDecl) string {
	if d.Recv == nil || len(d.Recv.List) == 0 {
		return ""
	}
	t := d.Recv.List[0].Type
	if star, ok := t.(*ast.StarExpr); ok {
		t = star.X
	}
	if id, ok := t.(*ast.Ident); ok {
		return id.Name
	}
	return ""
}

// collect indexes the file's functions and finds the handlers among them and its closures.
func (s *scanner) collect(f *ast.File) {
	for _, d := range f.Decls {
		fd, ok := d.(*ast.FuncDecl)
		if !ok || fd.Body == nil {
			continue
		}
		name := fd.Name.Name
		if r := recvName(fd); r != "" {
			name = r + "." + name
		}
		x := s.newFn(name, fd.Pos(), fd.Body, f)
		s.decls[name] = append(s.decls[name], x)
		if fd.Recv != nil {
			s.decls[fd.Name.Name] = append(s.decls[fd.Name.Name], x)
		}
		if isHandlerType(f, fd.Type) {
			s.funcs = append(s.funcs, x)
		}
	}
	ast.Inspect(f, func(n ast.Node) bool {
		lit, ok := n.(*ast.FuncLit)
		if ok && isHandlerType(f, lit.Type) {
			s.funcs = append(s.funcs, s.newFn("func literal at "+s.at(lit.Pos()), lit.Pos(), lit.Body, f))
		}
		return true
	})
}

func (s *scanner) newFn(name string, pos token.Pos, body *ast.BlockStmt, f *ast.File) *fn {
	if x, ok := s.byBody[body]; ok {
		return x
	}
	x := &fn{name: name, pos: pos, body: body, file: f}
	ast.Inspect(body, func(n ast.Node) bool {
		call, ok := n.(*ast.CallExpr)
		if !ok {
			return true
		}
		switch {
		case isPkgSel(f, call.Fun, "context", "WithTimeout"), isPkgSel(f, call.Fun, "context", "WithDeadline"):
			if x.own == nil && len(call.Args) == 2 {
				x.own = s.boundOf("context."+call.Fun.(*ast.SelectorExpr).Sel.Name, call.Args[1], call)
				x.own.Parent = s.text(call.Args[0])
			}
		}
		switch fun := call.Fun.(type) {
		case *ast.Ident:
			x.calls = append(x.calls, fun.Name)
		case *ast.SelectorExpr:
			x.calls = append(x.calls, fun.Sel.Name)
			x.delegates = x.delegates || fun.Sel.Name == "ServeHTTP"
		}
		return true
	})
	s.byBody[body] = x
	return x
}

// database finds the file's sql.Open calls and pool settings (once per call: not per body,
// as bodies nest).
func (s *scanner) database(f *ast.File) {
	ast.Inspect(f, func(n ast.Node) bool {
		call, ok := n.(*ast.CallExpr)
		if !ok {
			return true
		}
		if isPkgSel(f, call.Fun, "database/sql", "Open") || isPkgSel(f, call.Fun, "database/sql", "OpenDB") {
			s.res.DBOpens = append(s.res.DBOpens, s.at(call.Pos()))
		}
		sel, ok := call.Fun.(*ast.SelectorExpr)
		if !ok || len(call.Args) != 1 {
			return true
		}
		switch sel.Sel.Name {
		case "SetMaxOpenConns", "SetMaxIdleConns", "SetConnMaxLifetime", "SetConnMaxIdleTime":
			set := Setting{Call: sel.Sel.Name, At: s.at(call.Pos()), Expr: s.text(call.Args[0])}
			if v, ok := s.intValue(call.Args[0]); ok {
				set.Value = &v
			}
			s.res.Settings = append(s.res.Settings, set)
		}
		return true
	})
}

func (s *scanner) intValue(e ast.Expr) (int64, bool) {
	tv, ok := s.info.Types[e]
	if !ok || tv.Value == nil {
		return 0, false
	}
	return constant.Int64Val(constant.ToInt(tv.Value))
}

func (s *scanner) boundOf(via string, arg ast.Expr, call *ast.CallExpr) *Bound {
	b := &Bound{Via: via, At: s.at(call.Pos()), Expr: s.text(arg)}
	if ns, ok := s.intValue(arg); ok && via != "context.WithDeadline" {
		b.DurationNs = ns
		b.Duration = time.Duration(ns).String()
	}
	return b
}

// registrations finds HandleFunc/Handle calls (their patterns) and http.TimeoutHandler wraps.
func (s *scanner) registrations(f *ast.File) {
	ast.Inspect(f, func(n ast.Node) bool {
		call, ok := n.(*ast.CallExpr)
		if !ok {
			return true
		}
		if isPkgSel(f, call.Fun, "net/http", "TimeoutHandler") && len(call.Args) == 3 {
			b := s.boundOf("http.TimeoutHandler", call.Args[1], call)
			names := s.handlerNames(call.Args[0])
			if len(names) == 0 {
				names = []string{"*"} // wraps a mux or a handler built elsewhere: all of them
			}
			for _, name := range names {
				s.wrapped[name] = *b
			}
			return true
		}
		sel, ok := call.Fun.(*ast.SelectorExpr)
		if !ok || (sel.Sel.Name != "HandleFunc" && sel.Sel.Name != "Handle") || len(call.Args) != 2 {
			return true
		}
		pattern := s.text(call.Args[0])
		if lit, ok := call.Args[0].(*ast.BasicLit); ok {
			if p, err := strconv.Unquote(lit.Value); err == nil {
				pattern = p
			}
		}
		for _, name := range s.handlerNames(call.Args[1]) {
			s.pats[name] = append(s.pats[name], pattern)
		}
		return true
	})
}

// handlerNames: the handlers an expression passed as a handler stands for.
func (s *scanner) handlerNames(e ast.Expr) []string {
	switch x := e.(type) {
	case *ast.ParenExpr:
		return s.handlerNames(x.X)
	case *ast.FuncLit:
		if fn, ok := s.byBody[x.Body]; ok {
			return []string{fn.name}
		}
	case *ast.Ident:
		if _, ok := s.decls[x.Name]; ok {
			return []string{x.Name}
		}
	case *ast.SelectorExpr: // a method value: h.serve
		if _, ok := s.decls[x.Sel.Name]; ok {
			return s.methodNames(x.Sel.Name)
		}
	case *ast.UnaryExpr: // &T{...}
		return s.handlerNames(x.X)
	case *ast.CompositeLit:
		if id, ok := x.Type.(*ast.Ident); ok {
			return []string{id.Name + ".ServeHTTP"}
		}
	case *ast.CallExpr: // http.HandlerFunc(f), http.TimeoutHandler(h, d, msg)
		if sel, ok := x.Fun.(*ast.SelectorExpr); ok && len(x.Args) > 0 &&
			(sel.Sel.Name == "HandlerFunc" || sel.Sel.Name == "TimeoutHandler") {
			return s.handlerNames(x.Args[0])
		}
	}
	return nil
}

func (s *scanner) methodNames(bare string) []string {
	var out []string
	for _, x := range s.decls[bare] {
		out = append(out, x.name)
	}
	return out
}

// bound: the first WithTimeout/WithDeadline reachable from x through the package's functions.
func (s *scanner) bound(x *fn) *Bound {
	if b, ok := s.memo[x]; ok {
		return b
	}
	if s.busy[x] {
		return nil // recursion: the cycle's other members are still being looked at
	}
	s.busy[x] = true
	defer delete(s.busy, x)
	var b *Bound
	if x.own != nil {
		b = x.own
	} else {
	search:
		for _, c := range x.calls {
			for _, callee := range s.decls[c] {
				if cb := s.bound(callee); cb != nil {
					via := *cb
					if via.In == "" {
						via.In = callee.name
					}
					b = &via
					break search
				}
			}
		}
	}
	s.memo[x] = b
	return b
}
