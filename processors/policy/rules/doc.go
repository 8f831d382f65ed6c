// Package rules compiles and evaluates the policy engine's rule files: Falco-style YAML
// sequences of rules, lists and macros whose conditions are SFQL (package sysflow/sfql, the
// project's one condition language) over the flattened SysFlow record.
//
// # Files
//
//	# rules.yaml
//	- list: shells
//	  items: [bash, sh, zsh]
//	- macro: spawned_shell
//	  condition: sf.type = PE and sf.opflags = EXEC and sf.proc.name in (shells)
//	- rule: shell_in_container
//	  desc: a shell was started inside a container
//	  condition: spawned_shell and sf.container.id exists
//	  output: shell in container %sf.container.name (%sf.proc.exe %sf.proc.args)
//	  priority: WARNING
//	  tags: [container, shell]
//	  enabled: true
//
// Lists and macros are SFQL definitions ([sfql.Defs]); a rule may use those of every file
// loaded, in any order. A rule entry with append: true adds "and (condition)" to the rule of
// that name defined before it (and its tags to the rule's tags); enabled: false with no
// condition turns an earlier rule off. Appending to lists and macros is refused.
//
// # Invariants
//
// A [Set] is compiled once and immutable: every condition is bound to the caller's fields
// when the set is built, every %field of an output resolved, so evaluation never fails. A
// file with an error is refused as a whole with an [Error] naming the file, line, column and
// rule. Rules are evaluated in file order; [Set.Match] reports every enabled rule that holds.
package rules
