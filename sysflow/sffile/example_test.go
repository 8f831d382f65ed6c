package sffile_test

import (
	"errors"
	"fmt"
	"io"
	"log"
	"os"
	"strings"

	"github.com/sfstream/sfstream/sysflow"
	"github.com/sfstream/sfstream/sysflow/sffile"
)

// Read a SysFlow file flattened: every event and flow comes with its process, parent,
// container and file.
func ExampleNewFlatReader() {
	f, err := os.Open("../../testdata/reference/alpine/alpine.sf")
	if err != nil {
		log.Fatal(err)
	}
	defer f.Close()
	r, err := sffile.NewFlatReader(f)
	if err != nil {
		log.Fatal(err)
	}
	for i := 0; i < 8; i++ {
		flat, err := r.Next()
		if err != nil {
			log.Fatal(err)
		}
		ev := sysflow.EventFieldsOf(flat.Rec)
		fmt.Printf("%s %s %s (parent %s, container %s) %q\n", flat.Kind, strings.Join(sysflow.OpFlags(ev.OpFlags).Names(), ","),
			flat.Process.Exe, flat.Parent.Exe, flat.Container.Name, flat.Resource())
	}
	// Output:
	// FF OPEN,WRITE,CLOSE /bin/busybox (parent /usr/bin/containerd-shim, container alpine) "/root/.ash_history"
	// FF OPEN,CLOSE /bin/busybox (parent /usr/bin/containerd-shim, container alpine) "/tmp/test"
	// FF CLOSE /bin/busybox (parent /usr/bin/containerd-shim, container alpine) "/dev/pts/0"
	// FF OPEN,READ,CLOSE /bin/busybox (parent /usr/bin/containerd-shim, container alpine) "/etc/passwd"
	// FF OPEN,WRITE,CLOSE /bin/busybox (parent /usr/bin/containerd-shim, container alpine) "/root/.ash_history"
	// PE CLONE /bin/busybox (parent /usr/bin/containerd-shim, container alpine) ""
	// PE CLONE /bin/busybox (parent /bin/busybox, container alpine) ""
	// PE EXEC /bin/touch (parent /bin/busybox, container alpine) ""
}

// Read every record of a SysFlow file, entities included.
func ExampleReader() {
	f, err := os.Open("../../testdata/reference/alpine/alpine.sf")
	if err != nil {
		log.Fatal(err)
	}
	defer f.Close()
	r, err := sffile.NewReader(f)
	if err != nil {
		log.Fatal(err)
	}
	counts := map[sysflow.Kind]int{}
	for {
		rec, err := r.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			log.Fatal(err)
		}
		counts[rec.Kind()]++
	}
	for _, k := range sysflow.Kinds() {
		if counts[k] > 0 {
			fmt.Println(k, counts[k])
		}
	}
	// Output:
	// H 1
	// C 1
	// P 8
	// F 5
	// PE 8
	// FF 16
}
