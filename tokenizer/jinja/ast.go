package jinja

// Statement nodes.
type (
	node any

	textNode   struct{ s string }
	outputNode struct{ x expr }
	ifNode     struct {
		conds  []expr
		bodies [][]node
		els    []node
	}
	forNode struct {
		targets   []string
		iter      expr
		cond      expr
		body, els []node
		line      int
	}
	setNode struct {
		targets []string // one name, or several to unpack
		ns      string   // set ns.attr = …: ns is the namespace's name
		attr    string
		x       expr
		body    []node // block set: {% set x %}…{% endset %}
		filters []*filterExpr
	}
	macroNode struct{ m *Macro }
	breakNode struct{}
	contNode  struct{}
)

// Expression nodes.
type (
	expr any

	constExpr struct{ v Value }
	nameExpr  struct{ name string }
	attrExpr  struct {
		x    expr
		name string
	}
	itemExpr  struct{ x, key expr }
	sliceExpr struct{ x, lo, hi, step expr }
	callExpr  struct {
		fn     expr
		args   []expr
		kwargs []kwarg
	}
	filterExpr struct {
		x      expr // nil inside a filter chain of a set block
		name   string
		args   []expr
		kwargs []kwarg
	}
	testExpr struct {
		x      expr
		name   string
		args   []expr
		negate bool
	}
	unaryExpr struct {
		op string // "-", "+", "not"
		x  expr
	}
	binExpr struct {
		op   string // + - * / // % ** ~ and or
		l, r expr
	}
	cmpExpr struct {
		first expr
		ops   []string // == != < <= > >= in notin
		rest  []expr
	}
	condExpr struct{ then, cond, els expr }
	listExpr struct {
		items []expr
		tuple bool
	}
	dictExpr struct{ keys, vals []expr }
	kwarg    struct {
		name string
		x    expr
	}
)

// Macro is a template macro, callable from expressions.
type Macro struct {
	name     string
	params   []string
	defaults []expr // aligned with the last len(defaults) params
	body     []node
}
