package stack

import "github.com/sfstream/sfstream/archiver/store"

// ArchiveTarget is the archive target of the embedded stack: archiver/store's Target (the
// archiver's own configuration type; the stack only says where its in-process S3 or its
// directory is).
type ArchiveTarget = store.Target

// DefaultS3Region is store.DefaultS3Region.
const DefaultS3Region = store.DefaultS3Region
