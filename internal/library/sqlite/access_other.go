//go:build !unix

package sqlite

// canWrite has no check here: a library is opened for writing, and a
// read-only one fails at its first write.
func canWrite(string) error { return nil }
