package consumer_test

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/sfstream/sfstream/sysflow/consumer"
)

// userProgram is a program of another module that uses the public packages: a file with
// sffile and sysflow, a directory and the topics with consumer.
const userProgram = `package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/sfstream/sfstream/sysflow"
	"github.com/sfstream/sfstream/sysflow/consumer"
	"github.com/sfstream/sfstream/sysflow/sffile"
)

func main() {
	if err := run(os.Args[1], os.Args[2], os.Args[3], os.Args[4], os.Args[5]); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

func run(file, dir, brokers, registry, prefix string) error {
	f, err := os.Open(file)
	if err != nil {
		return err
	}
	defer f.Close()
	r, err := sffile.NewFlatReader(f)
	if err != nil {
		return err
	}
	n, execs := 0, 0
	for {
		flat, err := r.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return err
		}
		n++
		if pe, ok := flat.Rec.(*sysflow.ProcessEvent); ok && sysflow.OpFlags(pe.OpFlags).Has(sysflow.OpExec) {
			execs++
		}
	}
	fmt.Printf("file %d records, %d execs\n", n, execs)

	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	count := func(what string, src consumer.Source, err error) error {
		if err != nil {
			return err
		}
		defer src.Close()
		n := 0
		for {
			_, err := src.Next(ctx)
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				return err
			}
			n++
		}
		fmt.Printf("%s %d records\n", what, n)
		return nil
	}
	src, err := consumer.FromDir(dir, consumer.WithFilter("type = FF"))
	if err := count("dir", src, err); err != nil {
		return err
	}
	src, err = consumer.FromKafka(consumer.KafkaConfig{
		Brokers: []string{brokers}, RegistryURL: registry, TopicPrefix: prefix, StopAtEnd: true,
	})
	return count("kafka", src, err)
}
`

// TestExternalModule builds and runs a program of another module that imports sysflow,
// sysflow/sffile and sysflow/consumer through a replace of this checkout, and reads a file,
// a directory and the topics of the embedded stack with them.
func TestExternalModule(t *testing.T) {
	goCmd, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("the go command is needed: %v", err)
	}
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	ourMod, err := os.ReadFile(filepath.Join(root, "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	goLine := regexp.MustCompile(`(?m)^go [0-9.]+$`).Find(ourMod)
	if goLine == nil {
		t.Fatal("go.mod has no go line")
	}
	sums, err := os.ReadFile(filepath.Join(root, "go.sum"))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	mod := "module example.com/sfuser\n\n" + string(goLine) + "\n\n" +
		"require github.com/sfstream/sfstream v0.0.0\n\n" +
		"replace github.com/sfstream/sfstream => " + root + "\n"
	for name, data := range map[string][]byte{"go.mod": []byte(mod), "go.sum": sums, "main.go": []byte(userProgram)} {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}

	tp := produceReference(t, "alpine/alpine.sf")
	cmd := exec.CommandContext(t.Context(), goCmd, "run", ".",
		filepath.Join(root, "testdata", "reference", "alpine", "alpine.sf"),
		filepath.Join(root, "testdata", "reference"),
		tp.env.Brokers[0], tp.env.RegistryURL, tp.kcfg.TopicPrefix)
	cmd.Dir = dir
	// -mod=mod lets go add the requirements the program's imports need to its go.mod, from
	// the replaced module's; they come from the module cache, else from GOPROXY.
	cmd.Env = append(os.Environ(), "GOFLAGS="+strings.TrimSpace(os.Getenv("GOFLAGS")+" -mod=mod"), "GOWORK=off")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("go run: %v\n%s", err, out)
	}
	// alpine.sf has 24 events and flows, 2 of them execs.
	fileFlows, err := consumer.FromDir(filepath.Join(root, "testdata", "reference"), consumer.WithFilter("type = FF"))
	if err != nil {
		t.Fatal(err)
	}
	defer fileFlows.Close()
	want := fmt.Sprintf("file 24 records, 2 execs\ndir %d records\nkafka 24 records\n", len(drain(t, fileFlows)))
	if got := string(out); !strings.HasSuffix(got, want) {
		t.Fatalf("the program printed\n%s\nwant\n%s", got, want)
	}
}
