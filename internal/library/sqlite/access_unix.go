//go:build unix

package sqlite

import "syscall"

// canWrite asks the kernel whether this user may write path: file modes,
// ACLs and read-only mounts included.
func canWrite(path string) error {
	const wOK = 2 // W_OK
	return syscall.Access(path, wOK)
}
