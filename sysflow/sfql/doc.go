// Package sfql parses and evaluates SFQL, the SysFlow query language of the reference tools
// (sf-apis' sfql grammar and the Python interpreter of sysflow-tools that sysprint -f uses).
// It is the one condition language of the project: sfprint --filter, the producer filter and
// the policy engine's rules compile their conditions here.
//
// # Language
//
// An expression combines predicates with not, and, or (in that order of precedence, all
// left-associative) and parentheses:
//
//	type = NF and (net.dport = 80 or net.dport = 443)
//	not proc.exe startswith /usr/bin
//
// A predicate is a field, an operator and, except for exists, a value:
//
//	=  !=  <  <=  >  >=  contains  icontains  startswith  glob  exists  in  pmatch
//
// Values are words (letters, digits and _ - . / * : in any order: 80, /usr/bin/curl, CT_DOCKER,
// 10.0.0.1) or strings in double or single quotes (no escapes; a string ends at the next quote
// of its kind). A word on the right of an operator that names a field is that field's value
// (proc.pid = pproc.pid); anything else is literal text. in and pmatch take a parenthesised
// list of values, each of which may name a list from the definitions; a bracketed list [a, b]
// may appear among them. A bare word in place of a predicate names a macro. # starts a comment
// that runs to the end of the line.
//
// # Semantics (those of the reference interpreter)
//
// The field's value is turned into text as Python's str() would (None, True, False, decimal
// integers) and split at commas; a predicate holds if it holds for any part. So opflags (the
// set of operation names, "OPEN,READ,CLOSE") = READ holds for a flow that read, and so does
// opflags != READ when it did anything else as well. =, !=, contains, icontains and startswith
// compare text; <, <=, >, >= compare integers (Python int() of each part and of the value); in
// holds if a part equals an item of the list, pmatch if an item occurs within a part; glob
// holds if a part matches a shell pattern as fnmatch(3) without flags matches it (* matches
// any run of characters, / included, ? one character, [a-z] and [!a-z] one of a set; no
// escapes; ? is not a word character, so a pattern holding one is quoted); exists
// holds if the value is "truthy" in Python terms (not None, not empty, not 0, not false).
//
// Where the reference fails or is plainly wrong, this package differs, and the difference is
// part of the contract:
//   - <= means less than or equal (the reference evaluates it as >=);
//   - a comparison of a value that is not an integer with <, <=, >, >= is false (the
//     reference raises and sysprint stops printing); a literal on the right that is not an
//     integer is a compile error;
//   - an unknown field on the left, an unknown macro, a macro that refers to itself and a list
//     that contains itself are compile errors with their position (the reference compares the
//     field's name as text, or recurses until the stack overflows);
//   - single-quoted strings lose their quotes like double-quoted ones, and bracketed lists
//     inside in (...) and pmatch (...) count (the reference keeps the quotes and ignores the
//     brackets);
//   - glob, which the reference lacks, comes from the sysdig filters the producer takes; it is
//     an operator only after a field and a word anywhere else, so it never shadows a value;
//   - keywords of the reference's definition syntax (list, items, macro, rule, desc, ...) may
//     be used as values, and words may start with a dot (./server) or contain a colon.
//
// # Fields and records
//
// The package knows no fields: the caller supplies them. [Compile] resolves every field name
// through a [Fields] once, to a [FieldID] of the caller's choosing, and [Filter.Match] asks the
// record for the values of those ids through [Record]. A compiled Filter is immutable, safe for
// concurrent use, and evaluates without allocating when the record's Field does not.
//
// # Definitions
//
// Lists and macros come from definition files in the reference's (and Falco's) YAML form,
// loaded with [ParseDefs] or [LoadDefs]:
//
//	# shells.yaml
//	- list: shells
//	  items: [bash, sh, zsh]
//	- macro: shell_exec
//	  condition: type = PE and opflags = EXEC and proc.name in (shells)
//
// Entries of other kinds (rules, for the policy engine) are ignored here.
package sfql
