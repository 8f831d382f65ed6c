package rules

import (
	_ "embed"

	"github.com/sfstream/sfstream/sysflow/sfql"
)

//go:embed default.yaml
var defaultRules []byte

// DefaultFile is the default rule set (default.yaml), what sf-policy and sfstream hunt use
// when given no rule file.
func DefaultFile() File { return File{Name: "default.yaml", Data: defaultRules} }

// Default compiles the default rule set against fields.
func Default(fields sfql.Fields) (*Set, error) { return Compile(fields, DefaultFile()) }
