// Command composecheck validates compose files the way `docker compose config -q` does, for
// machines without the Docker Compose plugin, and then checks sfstream's own rules.
//
//	composecheck [-env KEY=VALUE]... compose.yaml...
//
// Loading uses compose-go, the library inside Docker Compose: the file is checked against the
// Compose Specification's JSON schema, interpolated, normalised and checked for consistency
// (services, volumes, networks and secrets that are referenced exist). The environment is
// empty unless -env sets a variable, so that the file is checked with the defaults a user
// gets; a variable without a default, or any other loader warning, fails the check.
//
// sfstream's rules, on top:
//   - every image has an explicit tag or digest, never "latest";
//   - every service that keeps running (restart is not "no", no profile) has a health check;
//   - depends_on with service_healthy names a service with a health check, and with
//     service_completed_successfully a one-shot service (restart "no" or "on-failure");
//     the dependency graph has no cycle;
//   - sfstream services (images sf-producer, sf-processor, sf-archiver, sfstream-tools) set
//     SFSTREAM_KAFKA_BROKERS and only SFSTREAM_* variables the binaries know;
//   - the producer is privileged (or adds the SYS_ADMIN and SYS_PTRACE capabilities and
//     runs without a seccomp filter), in the host PID namespace, with SFSTREAM_EXPORTER_ID and
//     the kernel's BTF, tracefs (or debugfs), /proc (at /host/proc) and cgroup file systems
//     mounted read-only; the processors run at least two replicas; nothing but the producer
//     runs an sfstream image as root.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"github.com/compose-spec/compose-go/v2/cli"
	"github.com/compose-spec/compose-go/v2/types"
	"github.com/sirupsen/logrus"
)

// knownEnv is every SFSTREAM_* variable compose.yaml may set: the environment names of the
// binaries' flags (internal/service.EnvName). Add one here when compose.yaml needs a new flag.
var knownEnv = []string{
	// internal/service: every service.
	"SFSTREAM_CONFIG",
	"SFSTREAM_KAFKA_BROKERS",
	"SFSTREAM_KAFKA_CLIENT_ID",
	"SFSTREAM_KAFKA_DIAL_TIMEOUT",
	"SFSTREAM_KAFKA_SASL_MECHANISM",
	"SFSTREAM_KAFKA_SASL_PASSWORD",
	"SFSTREAM_KAFKA_SASL_PASSWORD_FILE",
	"SFSTREAM_KAFKA_SASL_USER",
	"SFSTREAM_KAFKA_TLS",
	"SFSTREAM_KAFKA_TLS_CA_FILE",
	"SFSTREAM_KAFKA_TLS_CERT_FILE",
	"SFSTREAM_KAFKA_TLS_KEY_FILE",
	"SFSTREAM_LOG_FORMAT",
	"SFSTREAM_LOG_LEVEL",
	"SFSTREAM_METRICS_ADDR",
	"SFSTREAM_PARTITIONS",
	"SFSTREAM_SCHEMA_REGISTRY_PASSWORD",
	"SFSTREAM_SCHEMA_REGISTRY_URL",
	"SFSTREAM_SCHEMA_REGISTRY_USER",
	"SFSTREAM_TOPIC_PREFIX",
	// producer.
	"SFSTREAM_EXCLUDE_COMMS",
	"SFSTREAM_EXCLUDE_PIDS",
	"SFSTREAM_EXPORTER_ID",
	"SFSTREAM_QUEUE_EVENTS",
	"SFSTREAM_RINGBUF_BYTES",
	// processors and archiver.
	"SFSTREAM_GROUP",
	"SFSTREAM_INSTANCE_ID",
	"SFSTREAM_TRANSACTIONAL_ID",
	// archiver and sfprint.
	"SFSTREAM_S3_ACCESS_KEY",
	"SFSTREAM_S3_ACCESS_KEY_FILE",
	"SFSTREAM_S3_BUCKET",
	"SFSTREAM_S3_ENDPOINT",
	"SFSTREAM_S3_PREFIX",
	"SFSTREAM_S3_REGION",
	"SFSTREAM_S3_SECRET_KEY",
	"SFSTREAM_S3_SECRET_KEY_FILE",
	"SFSTREAM_S3_SECURE",
	"SFSTREAM_STAGING_DIR",
	"SFSTREAM_STAGING_MAX_BYTES",
}

// Image names (the last path element, without tag) of the sfstream images.
const (
	imageProducer  = "sf-producer"
	imageProcessor = "sf-processor"
	imageArchiver  = "sf-archiver"
	imageTools     = "sfstream-tools"
)

// producerMounts are the container paths the producer needs read-only; each entry lists
// alternatives, one of which must be mounted.
var producerMounts = [][]string{
	{"/sys/kernel/btf"},
	{"/sys/kernel/tracing", "/sys/kernel/debug"},
	{"/host/proc"},
	{"/sys/fs/cgroup"},
}

func main() {
	if err := run(context.Background(), os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "composecheck:", err)
		os.Exit(1)
	}
}

// envFlags collects repeated -env KEY=VALUE flags.
type envFlags []string

func (e *envFlags) String() string { return strings.Join(*e, ",") }

func (e *envFlags) Set(v string) error {
	if !strings.Contains(v, "=") {
		return fmt.Errorf("want KEY=VALUE, got %q", v)
	}
	*e = append(*e, v)
	return nil
}

func run(ctx context.Context, args []string, out io.Writer) error {
	fs := flag.NewFlagSet("composecheck", flag.ContinueOnError)
	var env envFlags
	fs.Var(&env, "env", "set a variable for interpolation (repeatable)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() == 0 {
		return errors.New("usage: composecheck [-env KEY=VALUE]... compose.yaml...")
	}
	var errs []error
	for _, path := range fs.Args() {
		project, err := load(ctx, path, env)
		if err != nil {
			errs = append(errs, fmt.Errorf("load %s: %w", path, err))
			continue
		}
		if problems := check(project); len(problems) > 0 {
			errs = append(errs, fmt.Errorf("check %s:\n  %s", path, strings.Join(problems, "\n  ")))
			continue
		}
		fmt.Fprintf(out, "%s: valid, %d services: %s\n", path, len(project.Services), strings.Join(project.ServiceNames(), " "))
	}
	return errors.Join(errs...)
}

// warningHook turns compose-go's logrus warnings into errors.
type warningHook struct{ messages []string }

func (h *warningHook) Levels() []logrus.Level {
	return []logrus.Level{logrus.PanicLevel, logrus.FatalLevel, logrus.ErrorLevel, logrus.WarnLevel}
}

func (h *warningHook) Fire(e *logrus.Entry) error {
	h.messages = append(h.messages, e.Message)
	return nil
}

// load reads one compose file with every profile enabled and only env as the environment.
func load(ctx context.Context, path string, env []string) (*types.Project, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, err
	}
	hook := &warningHook{}
	logger := logrus.StandardLogger()
	logger.AddHook(hook)
	logger.SetOutput(io.Discard)
	defer func() {
		logger.ReplaceHooks(logrus.LevelHooks{})
		logger.SetOutput(os.Stderr)
	}()

	opts, err := cli.NewProjectOptions([]string{abs},
		cli.WithWorkingDirectory(filepath.Dir(abs)),
		cli.WithEnv(env),
		cli.WithProfiles([]string{"*"}),
		cli.WithInterpolation(true),
		cli.WithNormalization(true),
		cli.WithConsistency(true),
		cli.WithResolvedPaths(true),
	)
	if err != nil {
		return nil, err
	}
	project, err := opts.LoadProject(ctx)
	if err != nil {
		return nil, err
	}
	if len(hook.messages) > 0 {
		return nil, fmt.Errorf("loader warnings: %s", strings.Join(hook.messages, "; "))
	}
	return project, nil
}

// check applies sfstream's rules and returns one line per problem, sorted.
func check(p *types.Project) []string {
	var problems []string
	add := func(service, format string, args ...any) {
		problems = append(problems, "service "+service+": "+fmt.Sprintf(format, args...))
	}
	processorReplicas := 0
	for _, name := range p.ServiceNames() {
		s := p.Services[name]
		image := imageName(s.Image)
		switch {
		case s.Image == "":
			add(name, "no image")
		case !hasExplicitTag(s.Image):
			add(name, "image %q has no explicit tag (or uses latest)", s.Image)
		}
		longRunning := s.Restart != types.RestartPolicyNo && len(s.Profiles) == 0
		if longRunning && !hasHealthCheck(s) {
			add(name, "keeps running (restart %q) but has no health check", s.Restart)
		}
		for dep, d := range s.DependsOn {
			target, ok := p.Services[dep]
			if !ok {
				add(name, "depends on undefined service %q", dep)
				continue
			}
			switch d.Condition {
			case types.ServiceConditionHealthy:
				if !hasHealthCheck(target) {
					add(name, "waits for %q to be healthy, but it has no health check", dep)
				}
			case types.ServiceConditionCompletedSuccessfully:
				if target.Restart != types.RestartPolicyNo && !strings.HasPrefix(target.Restart, types.RestartPolicyOnFailure) {
					add(name, "waits for %q to complete, but it restarts (%q)", dep, target.Restart)
				}
			}
		}
		if !isSfstream(image) {
			continue
		}
		if v := s.Environment["SFSTREAM_KAFKA_BROKERS"]; v == nil || *v == "" {
			add(name, "SFSTREAM_KAFKA_BROKERS is not set")
		}
		for key := range s.Environment {
			if strings.HasPrefix(key, "SFSTREAM_") && !slices.Contains(knownEnv, key) {
				add(name, "unknown variable %s (not a flag of the sfstream binaries)", key)
			}
		}
		switch image {
		case imageProducer:
			problems = append(problems, checkProducer(name, s)...)
		case imageProcessor:
			processorReplicas += replicas(s)
		}
		if image != imageProducer && runsAsRoot(s.User) {
			add(name, "runs %s as root (user %q); only the producer may", image, s.User)
		}
	}
	if processorReplicas < 2 {
		problems = append(problems, fmt.Sprintf("project: %d %s containers, want at least 2 in the consumer group", processorReplicas, imageProcessor))
	}
	if cycle := dependencyCycle(p); cycle != "" {
		problems = append(problems, "project: depends_on cycle: "+cycle)
	}
	sort.Strings(problems)
	return problems
}

// captureCaps are the capabilities the producer needs when it is not privileged: the kernel
// takes SYS_ADMIN for BPF and PERFMON as well (names Docker 20.10 does not know).
var captureCaps = []string{"SYS_ADMIN", "SYS_PTRACE"}

// captureCapable reports whether a service that is not privileged may still capture: it adds
// captureCaps (with or without the CAP_ prefix, or ALL) and runs without a seccomp filter.
func captureCapable(s types.ServiceConfig) bool {
	have := map[string]bool{}
	for _, c := range s.CapAdd {
		have[strings.TrimPrefix(strings.ToUpper(c), "CAP_")] = true
	}
	for _, c := range captureCaps {
		if !have[c] && !have["ALL"] {
			return false
		}
	}
	for _, o := range s.SecurityOpt {
		if strings.ReplaceAll(o, ":", "=") == "seccomp=unconfined" {
			return true
		}
	}
	return false
}

func checkProducer(name string, s types.ServiceConfig) []string {
	var problems []string
	add := func(format string, args ...any) {
		problems = append(problems, "service "+name+": "+fmt.Sprintf(format, args...))
	}
	if !s.Privileged && !captureCapable(s) {
		add("the producer must be privileged, or have cap_add %s and security_opt seccomp=unconfined (eBPF)", strings.Join(captureCaps, ", "))
	}
	if s.Pid != "host" {
		add("the producer must use the host PID namespace (pid: host), has %q", s.Pid)
	}
	if v := s.Environment["SFSTREAM_EXPORTER_ID"]; v == nil || *v == "" {
		add("SFSTREAM_EXPORTER_ID is not set")
	}
	mounted := map[string]bool{}
	for _, v := range s.Volumes {
		if v.Type == types.VolumeTypeBind {
			mounted[v.Target] = v.ReadOnly
		}
	}
	for _, alternatives := range producerMounts {
		found := false
		for _, target := range alternatives {
			readOnly, ok := mounted[target]
			if !ok {
				continue
			}
			found = true
			if !readOnly {
				add("%s must be mounted read-only", target)
			}
		}
		if !found {
			add("no bind mount at %s", strings.Join(alternatives, " or "))
		}
	}
	return problems
}

// imageName returns the last path element of an image reference without tag or digest:
// "sfstream/sf-producer:dev" -> "sf-producer".
func imageName(ref string) string {
	ref, _, _ = strings.Cut(ref, "@")
	name := ref[strings.LastIndex(ref, "/")+1:]
	name, _, _ = strings.Cut(name, ":")
	return name
}

func hasExplicitTag(ref string) bool {
	if strings.Contains(ref, "@sha256:") {
		return true
	}
	name := ref[strings.LastIndex(ref, "/")+1:]
	_, tag, ok := strings.Cut(name, ":")
	return ok && tag != "" && tag != "latest"
}

func isSfstream(image string) bool {
	switch image {
	case imageProducer, imageProcessor, imageArchiver, imageTools:
		return true
	}
	return false
}

func hasHealthCheck(s types.ServiceConfig) bool {
	h := s.HealthCheck
	return h != nil && !h.Disable && len(h.Test) > 0 && h.Test[0] != "NONE"
}

func replicas(s types.ServiceConfig) int {
	switch {
	case s.Deploy != nil && s.Deploy.Replicas != nil:
		return *s.Deploy.Replicas
	case s.Scale != nil:
		return *s.Scale
	}
	return 1
}

func runsAsRoot(user string) bool {
	uid, _, _ := strings.Cut(user, ":")
	return uid == "0" || uid == "root"
}

// dependencyCycle returns one depends_on cycle as "a -> b -> a", or "".
func dependencyCycle(p *types.Project) string {
	const (
		unvisited = iota
		inProgress
		done
	)
	state := map[string]int{}
	var stack []string
	var visit func(string) string
	visit = func(name string) string {
		switch state[name] {
		case inProgress:
			i := slices.Index(stack, name)
			return strings.Join(append(slices.Clone(stack[i:]), name), " -> ")
		case done:
			return ""
		}
		state[name] = inProgress
		stack = append(stack, name)
		deps := make([]string, 0, len(p.Services[name].DependsOn))
		for dep := range p.Services[name].DependsOn {
			deps = append(deps, dep)
		}
		sort.Strings(deps)
		for _, dep := range deps {
			if _, ok := p.Services[dep]; !ok {
				continue
			}
			if c := visit(dep); c != "" {
				return c
			}
		}
		stack = stack[:len(stack)-1]
		state[name] = done
		return ""
	}
	for _, name := range p.ServiceNames() {
		if c := visit(name); c != "" {
			return c
		}
	}
	return ""
}
