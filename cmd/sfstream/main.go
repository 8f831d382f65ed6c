// Command sfstream runs the whole pipeline in one process: `sfstream run` starts the embedded
// stack (Kafka and a schema registry, persisted under the data directory), a producer (live
// eBPF capture as root, a replayed capture, or the synthetic generator), one processor and the
// archiver writing hourly SysFlow files to <data>/archive (or S3).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/sfstream/sfstream/internal/version"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := dispatch(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr)
	stop()
	if errors.Is(err, flag.ErrHelp) {
		os.Exit(0)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "sfstream:", err)
		os.Exit(1)
	}
}

const usage = `Usage: sfstream COMMAND [flags]

Commands:
  run       the embedded all-in-one pipeline (what make run starts)
  conform   replay a capture through the pipeline and compare with a reference SysFlow file
  hunt      evaluate the policy rules over SysFlow files or an archive: alerts as JSON lines
  version   print the version

sfstream COMMAND -h lists the command's flags.
`

func dispatch(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return errors.New("no command")
	}
	switch args[0] {
	case "run":
		return runCmd(ctx, args[1:], getenv, stdout, stderr)
	case "conform":
		return conformCmd(ctx, args[1:], getenv, stdout, stderr)
	case "hunt":
		return huntCmd(ctx, args[1:], getenv, stdout, stderr)
	case "version", "-version", "--version":
		fmt.Fprintln(stdout, "sfstream", version.Version)
		return nil
	case "-h", "-help", "--help", "help":
		fmt.Fprint(stdout, usage)
		return nil
	}
	fmt.Fprint(stderr, usage)
	return fmt.Errorf("unknown command %q", args[0])
}
