package sfql

import "testing"

func TestGlobMatch(t *testing.T) {
	tests := []struct {
		pat, s string
		want   bool
	}{
		{"", "", true},
		{"", "a", false},
		{"*", "", true},
		{"*", "/usr/bin/curl", true},
		{"/usr/*", "/usr/bin/curl", true}, // * crosses /, as fnmatch without FNM_PATHNAME
		{"/usr/*/curl", "/usr/local/bin/curl", true},
		{"*curl", "/usr/bin/curl", true},
		{"*curl", "/usr/bin/curly", false},
		{"*c*l*", "/usr/bin/curl", true},
		{"a*b*c", "abxbxc", true},
		{"a*b*c", "abxbx", false},
		{"ba?h", "bash", true},
		{"ba?h", "bah", false},
		{"?", "é", true}, // one character, two bytes
		{"??", "é", false},
		{"[bd]ash", "dash", true},
		{"[bd]ash", "zash", false},
		{"[!bd]ash", "zash", true},
		{"[^bd]ash", "bash", false},
		{"[a-c]x", "bx", true},
		{"[a-c]x", "dx", false},
		{"[]]x", "]x", true},
		{"[!]]x", "]x", false},
		{"[a-]", "-", true},
		{"[", "[", true},
		{"[ab", "[ab", true},
		{"[ab", "a", false},
		{"sf-*", "sf-collector", true},
		{"sf-*", "xsf-collector", false},
		{"**", "abc", true},
	}
	for _, tt := range tests {
		t.Run(tt.pat+"~"+tt.s, func(t *testing.T) {
			if got := globMatch(tt.pat, tt.s); got != tt.want {
				t.Errorf("globMatch(%q, %q) = %v, want %v", tt.pat, tt.s, got, tt.want)
			}
		})
	}
}

func TestGlobOperator(t *testing.T) {
	tests := []struct {
		expr string
		want bool
	}{
		{"proc.exe glob /usr/bin/*", true},
		{"proc.exe glob '/usr/bin/cur?'", true},
		{"proc.exe glob /usr/bin/[a-c]url", true},
		{"proc.exe glob /bin/*", false},
		{"not proc.exe glob /bin/*", true},
		{"opflags glob SE*", true},  // any comma-separated part, like the other operators
		{"proc.pid glob 4*", true},  // integers as their decimal text
		{"file.path glob N*", true}, // None's text is "None", as for the other text operators
		{"type = glob or true", false},
	}
	for _, tt := range tests {
		t.Run(tt.expr, func(t *testing.T) {
			f, err := Compile(tt.expr, FieldsFunc(testLookup), mustDefs(t))
			if tt.expr == "type = glob or true" {
				// glob stays a word where a value is expected: here it is the value of type,
				// and true an unknown macro.
				if err == nil {
					t.Fatal("want an unknown-macro error")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := f.Match(netFlow); got != tt.want {
				t.Errorf("Match = %v, want %v", got, tt.want)
			}
			// The canonical form parses back to the same thing.
			if again, err := Parse(f.String()); err != nil || again.String() != f.String() {
				t.Errorf("canonical form %q: %v", f.String(), err)
			}
		})
	}
}

func TestGlobWords(t *testing.T) {
	// glob is an operator only after a field: elsewhere it is a word as before.
	f, err := Compile("proc.exe = glob or proc.exe glob glob", FieldsFunc(testLookup), nil)
	if err != nil {
		t.Fatal(err)
	}
	if f.Match(testRecord{"proc.exe": StringValue("glob")}) != true {
		t.Error("proc.exe = glob does not match \"glob\"")
	}
	if _, err := Compile("proc.exe glob", FieldsFunc(testLookup), nil); err == nil {
		t.Error("glob without a value compiled")
	} else if e, ok := err.(*Error); !ok || e.Pos.Col != 14 {
		t.Errorf("glob without a value: %v, want an error at column 14", err)
	}
}
