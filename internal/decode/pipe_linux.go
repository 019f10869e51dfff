package decode

import (
	"os"

	"golang.org/x/sys/unix"
)

// growPipe asks for a pipe buffer of at least n bytes. The kernel caps it
// at /proc/sys/fs/pipe-max-size; a smaller pipe only costs speed.
func growPipe(f *os.File, n int) {
	unix.FcntlInt(f.Fd(), unix.F_SETPIPE_SZ, n)
}
