package state

import "github.com/sfstream/sfstream/sysflow"

// Operation and open flags as the int32 values the record fields hold.
const (
	opClone     = int32(sysflow.OpClone)
	opExec      = int32(sysflow.OpExec)
	opExit      = int32(sysflow.OpExit)
	opSetuid    = int32(sysflow.OpSetUID)
	opSetns     = int32(sysflow.OpSetNS)
	opAccept    = int32(sysflow.OpAccept)
	opConnect   = int32(sysflow.OpConnect)
	opOpen      = int32(sysflow.OpOpen)
	opReadRecv  = int32(sysflow.OpReadRecv)
	opWriteSend = int32(sysflow.OpWriteSend)
	opClose     = int32(sysflow.OpClose)
	opTruncate  = int32(sysflow.OpTruncate)
	opShutdown  = int32(sysflow.OpShutdown)
	opMmap      = int32(sysflow.OpMmap)
	opMkdir     = int32(sysflow.OpMkdir)
	opRmdir     = int32(sysflow.OpRmdir)
	opLink      = int32(sysflow.OpLink)
	opUnlink    = int32(sysflow.OpUnlink)
	opSymlink   = int32(sysflow.OpSymlink)
	opRename    = int32(sysflow.OpRename)

	openRdonly    = int32(sysflow.OpenRdonly)
	openDirectory = int32(sysflow.OpenDirectory)
)
