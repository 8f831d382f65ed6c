// Command dockercheck checks deploy/docker/Dockerfile without a Docker engine.
//
//	dockercheck [-root DIR] Dockerfile
//
// It parses the file with BuildKit's own Dockerfile parser and instruction reader, with the
// BuildKit linter on (every lint warning fails the check), and then checks sfstream's rules:
//   - the targets producer, processor, archiver and tools exist;
//   - the builder sets CGO_ENABLED=0 and ldflags "-s -w -X .../internal/version.Version=", and
//     every `go build` uses -trimpath and those ldflags;
//   - every COPY --from names an earlier stage;
//   - the producer's last USER is root (0), every other target's is 65532;
//   - producer, processor and archiver have an ENTRYPOINT and a HEALTHCHECK;
//   - every package built exists under -root (a package that is not in the tree yet is
//     reported, not failed: the stages are written by different people at different times).
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"

	"github.com/moby/buildkit/frontend/dockerfile/instructions"
	"github.com/moby/buildkit/frontend/dockerfile/linter"
	"github.com/moby/buildkit/frontend/dockerfile/parser"
)

// The image targets and the user each must end with.
var targets = map[string]string{
	"producer":  "0",
	"processor": "65532",
	"archiver":  "65532",
	"tools":     "65532",
}

// Targets that run a service: they need an entrypoint and a health check.
var services = []string{"producer", "processor", "archiver"}

const versionLDFlag = "-X github.com/sfstream/sfstream/internal/version.Version="

var goBuildPackage = regexp.MustCompile(`go build [^&;]*?(\./[A-Za-z0-9_./-]+)`)

func main() {
	if err := run(os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "dockercheck:", err)
		os.Exit(1)
	}
}

func run(args []string, out io.Writer) error {
	fs := flag.NewFlagSet("dockercheck", flag.ContinueOnError)
	root := fs.String("root", ".", "repository root, where the built packages are looked up")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return errors.New("usage: dockercheck [-root DIR] Dockerfile")
	}
	path := fs.Arg(0)
	stages, warnings, err := parse(path)
	if err != nil {
		return fmt.Errorf("parse %s: %w", path, err)
	}
	problems := append(warnings, check(stages)...)
	missing := missingPackages(stages, *root)
	if len(problems) > 0 {
		sort.Strings(problems)
		return fmt.Errorf("check %s:\n  %s", path, strings.Join(problems, "\n  "))
	}
	names := make([]string, len(stages))
	for i, s := range stages {
		names[i] = s.Name
	}
	fmt.Fprintf(out, "%s: valid, stages: %s\n", path, strings.Join(names, " "))
	for _, pkg := range missing {
		fmt.Fprintf(out, "%s: note: %s is not in the tree yet; its target cannot be built\n", path, pkg)
	}
	return nil
}

// parse reads the Dockerfile the way BuildKit does and returns its stages and the linter's
// warnings.
func parse(path string) ([]instructions.Stage, []string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	res, err := parser.Parse(f)
	if err != nil {
		return nil, nil, err
	}
	var warnings []string
	for _, w := range res.Warnings {
		line := 0
		if w.Location != nil {
			line = w.Location.Start.Line
		}
		warnings = append(warnings, fmt.Sprintf("line %d: %s", line, w.Short))
	}
	lint := linter.New(&linter.Config{
		Warn: func(rule, _, _, msg string, loc []parser.Range) {
			line := 0
			if len(loc) > 0 {
				line = loc[0].Start.Line
			}
			warnings = append(warnings, fmt.Sprintf("line %d: lint %s: %s", line, rule, msg))
		},
	})
	stages, _, err := instructions.Parse(res.AST, lint)
	if err != nil {
		return nil, nil, err
	}
	return stages, warnings, nil
}

// check applies sfstream's rules to the stages.
func check(stages []instructions.Stage) []string {
	var problems []string
	byName := map[string]int{}
	for i, s := range stages {
		if s.Name != "" {
			byName[strings.ToLower(s.Name)] = i
		}
	}
	cgoOff, ldflagsSet := false, false
	for i, s := range stages {
		user, entrypoint, healthcheck := "", false, false
		for _, cmd := range s.Commands {
			switch c := cmd.(type) {
			case *instructions.EnvCommand:
				for _, kv := range c.Env {
					switch kv.Key {
					case "CGO_ENABLED":
						cgoOff = cgoOff || kv.Value == "0"
					case "SFSTREAM_LDFLAGS":
						ldflagsSet = strings.Contains(kv.Value, "-s -w") && strings.Contains(kv.Value, versionLDFlag)
					}
				}
			case *instructions.RunCommand:
				line := strings.Join(c.CmdLine, " ")
				for _, build := range strings.Split(line, "&&") {
					if !strings.Contains(build, "go build") {
						continue
					}
					if !strings.Contains(build, "-trimpath") || !strings.Contains(build, `-ldflags "${SFSTREAM_LDFLAGS}"`) {
						problems = append(problems, fmt.Sprintf("stage %s: %q lacks -trimpath or -ldflags \"${SFSTREAM_LDFLAGS}\"", s.Name, strings.TrimSpace(build)))
					}
				}
			case *instructions.CopyCommand:
				if c.From == "" {
					continue
				}
				if j, ok := byName[strings.ToLower(c.From)]; !ok || j >= i {
					problems = append(problems, fmt.Sprintf("stage %s: COPY --from=%s names no earlier stage", s.Name, c.From))
				}
			case *instructions.UserCommand:
				user = c.User
			case *instructions.EntrypointCommand:
				entrypoint = len(c.CmdLine) > 0
			case *instructions.HealthCheckCommand:
				healthcheck = c.Health != nil && len(c.Health.Test) > 0 && c.Health.Test[0] != "NONE"
			}
		}
		want, isTarget := targets[s.Name]
		if !isTarget {
			continue
		}
		if uid, _, _ := strings.Cut(user, ":"); uid != want {
			problems = append(problems, fmt.Sprintf("target %s: runs as user %q, want uid %s", s.Name, user, want))
		}
		if slices.Contains(services, s.Name) && (!entrypoint || !healthcheck) {
			problems = append(problems, fmt.Sprintf("target %s: needs an ENTRYPOINT and a HEALTHCHECK", s.Name))
		}
	}
	for name := range targets {
		if _, ok := byName[name]; !ok {
			problems = append(problems, "no target "+name)
		}
	}
	if !cgoOff {
		problems = append(problems, "no ENV CGO_ENABLED=0")
	}
	if !ldflagsSet {
		problems = append(problems, `no ENV SFSTREAM_LDFLAGS with "-s -w `+versionLDFlag+`"`)
	}
	return problems
}

// missingPackages returns the packages that `go build` lines name but root lacks.
func missingPackages(stages []instructions.Stage, root string) []string {
	var missing []string
	for _, s := range stages {
		for _, cmd := range s.Commands {
			c, ok := cmd.(*instructions.RunCommand)
			if !ok {
				continue
			}
			for _, m := range goBuildPackage.FindAllStringSubmatch(strings.Join(c.CmdLine, " "), -1) {
				pkg := m[1]
				goFiles, _ := filepath.Glob(filepath.Join(root, pkg, "*.go"))
				if len(goFiles) == 0 && !slices.Contains(missing, pkg) {
					missing = append(missing, pkg)
				}
			}
		}
	}
	return missing
}
