// Package replay is the `sf-producer --replay FILE.scap` source: it turns a sysdig/Falco
// capture into the raw batches (internal/raw) that the live eBPF producer sends, so that the
// processors cannot tell a replay from a capture.
//
// It owns the replayer's view of the captured machine, built the way libsinsp builds it for
// the reference collector:
//
//   - The process list and fd list blocks rebuild the process and fd tables at capture start;
//     they are emitted first, as one OpSnapshot record per process and thread (Proc filled
//     from the list, user and group names from the user list, container from the cgroups and
//     the capture's container JSON; the process record carries the fd table).
//   - Syscalls are paired enter/exit per thread and normalised across event-table versions:
//     old captures carry fds, sizes and paths only on enter events, newer ones on the exit.
//     Each exit becomes one raw event with the exit's ts and ret (failed calls keep their
//     negative ret); paths are passed as given with their dirfd, for the processors to
//     resolve. Mmaps keep their enter event's ts, as SysFlow takes them from enter events.
//   - Process identity follows SEMANTICS.md §2: a process known before the capture has
//     createTS 0 (the value a capture stores); a child born during it gets the ts of the
//     clone exit that created its entry, whichever side comes first in the capture: the
//     caller's when the caller is in the host pid namespace, none of
//     CLONE_NEWPID/CLONE_CHILD_IN_PIDNS/CLONE_PARENT is set and the child's own exit has not
//     created it already (an entry the child made is never replaced); else the child's own,
//     unless an entry a clone exit made less than 2 s earlier is there. Threads carry their
//     process's OID. Processes first met in the middle of a capture (filtered captures often
//     start with a bare execve exit) get createTS 0; one met through any other event is
//     sinsp's stand-in (exe and comm "<NA>", uid/gid -1), its first event carrying Proc.
//   - Credentials follow sinsp's thread table: setuid/setresuid/setgid/setresgid change the
//     effective uid/gid when they succeed (setgid/setresgid have no raw op: the process's
//     next event carries Proc), clone children take the uid/gid of the clone exit that
//     creates them, execs keep them unless their exit reports new ones.
//   - A clone child's record carries the fd table it inherited (the processor that owns the
//     child's partition cannot see its parent's); the replayer keeps each process's table
//     from the fd list block and the fd syscalls, and drops close-on-exec fds at exec.
//   - At the end, one OpEnd notice (ts = the last event's ts, of any type) in a batch of its
//     own with hpid 0, which sinks send to every partition, so that processors truncate flows.
//
// Encodings beyond the raw schema's field docs:
//   - Flags are Linux values (O_*, CLONE_*, MAP_*/PROT_*); PPM bits without a Linux
//     counterpart (PPM_O_F_CREATED, PPM_CL_CHILD_IN_PIDNS) are dropped.
//   - AF_UNIX sockets carry their path only (Sock.Path), as the live producer's do.
//   - Pipes made during the capture have no name (sinsp names only the capture's fd table's
//     pipes, read from /proc, "pipe:[ino]"); a list entry's exe is its exepath, or its exe
//     (argv[0]) when the exepath is empty or "<NA>".
//   - Container.Image is "image:tag" as SysFlow prints it; Container comes from the
//     capture's container JSON when present, else only the id and a runtime guessed from the
//     cgroup path.
//   - OpSetuid carries the requested uid's user name in Path and the process's attributes
//     after the call in Proc. Unknown user and group names are "<NA>", uid 0 is "root".
//   - Events a filtering capturer kept only for state (EVF STATE_ONLY) are replayed like the
//     others: the processors keep the state.
//   - Snapshot and clone records carry user names from the capture's user tables, also
//     where the reference collector printed "<NA>".
package replay
